import Foundation

/// Where AWS settings come from: environment variables and a home directory (for `~/.aws`).
/// Tests pass their own dictionary and home; `current()` reads the process's.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]
    public var homeDirectory: String

    public init(variables: [String: String], homeDirectory: String) {
        self.variables = variables
        self.homeDirectory = homeDirectory
    }

    public static func current() -> AWSEnvironment {
        let env = ProcessInfo.processInfo.environment
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return AWSEnvironment(variables: env, homeDirectory: home)
    }

    /// The variable's value, or nil when it is unset or empty (the SDKs treat both alike).
    public subscript(name: String) -> String? {
        guard let value = variables[name], !value.isEmpty else { return nil }
        return value
    }

    /// `true`/`false` (any case) as the SDKs read boolean settings; nil when unset.
    public func bool(_ name: String) -> Bool? {
        self[name].map { $0.lowercased() == "true" }
    }

    /// `~` and `~/x` expanded against the home directory.
    public func expandingTilde(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return homeDirectory + String(path.dropFirst(1)) }
        return path
    }

    public var configFilePath: String { expandingTilde(self["AWS_CONFIG_FILE"] ?? "~/.aws/config") }
    public var credentialsFilePath: String { expandingTilde(self["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials") }

    /// Reads and parses both shared files. A missing file is an empty one; an unreadable or
    /// malformed one is bad input.
    public func loadSharedConfigFiles() throws -> SharedConfigFiles {
        let configPath = configFilePath, credentialsPath = credentialsFilePath
        do {
            return try SharedConfigFiles(configFilePath: configPath, configText: try Self.readIfPresent(configPath),
                                         credentialsFilePath: credentialsPath, credentialsText: try Self.readIfPresent(credentialsPath))
        } catch let error as ConfigFileError {
            throw AWSConfigError.malformedFile(error)
        }
    }

    static func readIfPresent(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSConfigError.unreadableFile(path)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
