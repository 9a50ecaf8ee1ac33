@testable import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// A temporary home directory with `.aws/config` and `.aws/credentials` written by the test.
final class TempHome {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("dr-aws-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ relativePath: String, _ text: String, executable: Bool = false) throws -> String {
        let full = path + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
        return full
    }

    func config(_ text: String) throws { try write(".aws/config", text) }
    func credentials(_ text: String) throws { try write(".aws/credentials", text) }

    /// Instance metadata is off unless the test names a local server for it (nothing leaves the machine).
    func environment(_ variables: [String: String] = [:]) -> AWSEnvironment {
        AWSEnvironment(variables: TestEnvironment.awsVariables(variables), homeDirectory: path)
    }
}

/// A fake STS that records every call and hands out numbered temporary credentials.
final class FakeRoleAssumer: RoleAssuming, @unchecked Sendable {
    struct Call: Equatable {
        var operation: String
        var roleArn: String
        var sessionName: String
        var sourceAccessKeyId: String?
        var webIdentityToken: String?
        var externalId: String?
        var durationSeconds: Int?
        var region: String
    }
    struct Refused: Error, CustomStringConvertible { var description: String }

    private let lock = NSLock()
    private var recorded: [Call] = []
    let expiration: Date
    var refuse: String?

    init(expiration: Date = Date(timeIntervalSince1970: 1_700_003_600)) { self.expiration = expiration }

    var calls: [Call] { lock.withLock { recorded } }

    private func record(_ call: Call) throws -> AWSCredentials {
        let n = lock.withLock { recorded.append(call); return recorded.count }
        if let refuse { throw Refused(description: refuse) }
        return AWSCredentials(accessKeyId: "ASIAASSUMED\(n)", secretAccessKey: "assumed-secret-\(n)",
                              sessionToken: "assumed-token-\(n)", expiration: expiration)
    }

    func assumeRole(using source: AWSCredentials, roleArn: String, sessionName: String, externalId: String?,
                    durationSeconds: Int?, region: String) async throws -> AWSCredentials {
        try record(Call(operation: "AssumeRole", roleArn: roleArn, sessionName: sessionName, sourceAccessKeyId: source.accessKeyId,
                        externalId: externalId, durationSeconds: durationSeconds, region: region))
    }

    func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                   durationSeconds: Int?, region: String) async throws -> AWSCredentials {
        try record(Call(operation: "AssumeRoleWithWebIdentity", roleArn: roleArn, sessionName: sessionName,
                        webIdentityToken: webIdentityToken, durationSeconds: durationSeconds, region: region))
    }
}

/// A provider that counts its calls, can be slow, and hands out credentials that expire
/// `lifetime` seconds after the clock's now.
final class CountingProvider: AWSCredentialProvider, @unchecked Sendable {
    let name: String
    let clock: any DRClock
    let lifetime: TimeInterval?
    let delayNanoseconds: UInt64
    private let lock = NSLock()
    private var count = 0
    var failWith: Error?

    init(name: String = "counting", clock: any DRClock, lifetime: TimeInterval? = 3600, delayNanoseconds: UInt64 = 0) {
        self.name = name
        self.clock = clock
        self.lifetime = lifetime
        self.delayNanoseconds = delayNanoseconds
    }

    var calls: Int { lock.withLock { count } }

    func credentials() async throws -> AWSCredentials {
        let n = lock.withLock { count += 1; return count }
        if delayNanoseconds > 0 { try await Task.sleep(nanoseconds: delayNanoseconds) }
        if let failWith { throw failWith }
        return AWSCredentials(accessKeyId: "AKIA\(name.uppercased())\(n)", secretAccessKey: "secret-\(n)",
                              expiration: lifetime.map { clock.now().addingTimeInterval($0) })
    }
}

/// Every secret a test planted, to check that none leaks into text.
func assertNoSecrets(_ text: String, _ secrets: [String], file: StaticString = #filePath, line: UInt = #line) {
    for secret in secrets where text.contains(secret) {
        XCTFail("a secret leaked into: \(text)", file: file, line: line)
    }
}

/// A transport for chains whose HTTP sources must never be reached.
struct UnreachableTransport: HTTPTransport {
    func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        throw TransportError(.connectionFailed, "connection refused (test transport)")
    }
}

extension CredentialServices {
    static func test(roleAssumer: (any RoleAssuming)? = nil, clock: any DRClock = ManualClock(),
                     transport: any HTTPTransport = UnreachableTransport()) -> CredentialServices {
        CredentialServices(transport: transport, processRunner: SystemProcessRunner(), roleAssumer: roleAssumer, clock: clock)
    }
}
