import DRCore
import Foundation

/// Runs the built `dr` binary, as a user would, and returns its exit status, stdout and stderr.
/// The binary sits beside the test bundle (`.build/<config>/dr`); `DR_BIN` overrides.
public enum DRBinary {
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["DR_BIN"], !override.isEmpty { return override }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The test runner is `.build/<config>/<name>.xctest` (a file on Linux).
        return bundleDir.appendingPathComponent("dr").path
    }

    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String] = [:],
                           workingDirectory: String? = nil, input: Data? = nil) throws -> ProcessResult {
        try SystemProcessRunner.runBlocking(path, arguments, self.environment(environment), workingDirectory, input)
    }

    /// `run`, off the cooperative pool, so several can run at once.
    public static func runConcurrently(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await SystemProcessRunner().run(path, arguments, environment: self.environment(environment))
    }

    /// Runs the binary on a pseudo-terminal (util-linux `script`), as on an operator's screen:
    /// stdout and stderr both go to the terminal, so the result's `stdout` holds both, as shown.
    /// With `noColor: false`, NO_COLOR is unset.
    public static func runOnTerminal(_ arguments: [String], environment: [String: String] = [:], noColor: Bool) async throws -> ProcessResult {
        var env = self.environment(environment, noColor: noColor)
        env["TERM"] = "xterm"
        let command = ([path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        return try await SystemProcessRunner().run("script", ["-qfec", command, "/dev/null"], environment: env)
    }

    /// The test process's environment with `extra` on top; NO_COLOR set unless asked not to.
    /// Instance metadata is off (`TestEnvironment.awsVariables`) unless `extra` names a local server for it.
    public static func environment(_ extra: [String: String], noColor: Bool = true) -> [String: String] {
        var env = TestEnvironment.awsVariables(ProcessInfo.processInfo.environment)
        for (k, v) in extra { env[k] = v }
        env = TestEnvironment.awsVariables(env)
        env["NO_COLOR"] = noColor ? "1" : nil
        return env
    }
}
