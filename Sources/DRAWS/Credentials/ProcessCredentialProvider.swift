import DRCore
import Foundation

/// `credential_process`: runs the command through `/bin/sh -c` and reads the JSON it prints
/// (`Version: 1`, keys, optional `SessionToken` and `Expiration`). The command's output holds
/// secrets, so messages report only the exit status and what was wrong with the document.
public struct ProcessCredentialProvider: AWSCredentialProvider {
    public let name: String
    let command: String
    let runner: any ProcessRunning
    let environment: [String: String]
    let clock: any DRClock

    public init(command: String, profile: String, runner: any ProcessRunning, environment: [String: String], clock: any DRClock) {
        self.name = "credential_process (profile \(profile))"
        self.command = command
        self.runner = runner
        self.environment = environment
        self.clock = clock
    }

    public func credentials() async throws -> AWSCredentials {
        let result: ProcessResult
        do {
            result = try await runner.run("/bin/sh", ["-c", command], environment: environment, workingDirectory: nil, input: nil)
        } catch {
            throw CredentialProviderError.failed(name, "could not start the command: \(error)")
        }
        guard result.succeeded else {
            throw CredentialProviderError.failed(name, "the command exited with status \(result.status) (its output is not shown: it may hold secrets)")
        }
        let credentials = try CredentialDocument.decodeProcessOutput(Data(result.stdout.utf8), source: name)
        if let expiration = credentials.expiration, expiration <= clock.now() {
            throw CredentialProviderError.failed(name, "the command returned credentials that expired at \(RFC3339.format(expiration))")
        }
        return credentials
    }
}
