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
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["NO_COLOR"] = "1"
        return try SystemProcessRunner.runBlocking(path, arguments, env, workingDirectory, input)
    }
}
