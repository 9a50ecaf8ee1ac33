import Foundation

/// The shared `config` and `credentials` files, read once and merged as the SDKs merge them.
///
/// - config file: `[default]` and `[profile name]` are profiles (`[profile default]` wins over
///   `[default]`); `[services name]` holds per-service endpoint settings; other sections
///   (`[sso-session x]`, a bare `[name]`) are not profiles.
/// - credentials file: every `[name]` is a profile (no `profile ` prefix).
/// - A profile in both files has its keys merged; the credentials file wins for a key in both.
public struct SharedConfigFiles: Sendable, Equatable {
    public var configFilePath: String
    public var credentialsFilePath: String
    private var configProfiles: [String: ConfigSection] = [:]
    private var credentialsProfiles: [String: ConfigSection] = [:]
    private var services: [String: ConfigSection] = [:]

    public init(configFilePath: String, configText: String?, credentialsFilePath: String, credentialsText: String?) throws {
        self.configFilePath = configFilePath
        self.credentialsFilePath = credentialsFilePath
        if let configText {
            var plainDefault: ConfigSection?
            var prefixedDefault: ConfigSection?
            for (name, section) in try ConfigFileParser.parse(configText, path: configFilePath) {
                if name == "default" {
                    plainDefault = Self.merged(plainDefault, section)
                } else if name == "profile default" {
                    prefixedDefault = Self.merged(prefixedDefault, section)
                } else if let profile = Self.suffix(of: name, after: "profile") {
                    configProfiles[profile] = Self.merged(configProfiles[profile], section)
                } else if let servicesName = Self.suffix(of: name, after: "services") {
                    services[servicesName] = Self.merged(services[servicesName], section)
                }
            }
            if let chosen = prefixedDefault ?? plainDefault { configProfiles["default"] = chosen }
        }
        if let credentialsText {
            for (name, section) in try ConfigFileParser.parse(credentialsText, path: credentialsFilePath) {
                credentialsProfiles[name] = Self.merged(credentialsProfiles[name], section)
            }
        }
    }

    /// An empty set of files (no config, no credentials).
    public static let empty = try! SharedConfigFiles(configFilePath: "", configText: nil, credentialsFilePath: "", credentialsText: nil)

    /// The profile's settings from both files, or nil when neither file has it.
    public func profile(_ name: String) -> ConfigSection? {
        let fromConfig = configProfiles[name]
        let fromCredentials = credentialsProfiles[name]
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        var merged = fromConfig ?? ConfigSection()
        if let fromCredentials { merged.merge(fromCredentials) }
        return merged
    }

    /// Which file(s) define the profile, for messages.
    public func filesDefining(_ profile: String) -> [String] {
        var files: [String] = []
        if configProfiles[profile] != nil { files.append(configFilePath) }
        if credentialsProfiles[profile] != nil { files.append(credentialsFilePath) }
        return files
    }

    public var profileNames: [String] {
        Array(Set(configProfiles.keys).union(credentialsProfiles.keys)).sorted()
    }

    /// A `[services name]` section of the config file.
    public func servicesSection(_ name: String) -> ConfigSection? { services[name] }

    private static func merged(_ existing: ConfigSection?, _ new: ConfigSection) -> ConfigSection {
        var result = existing ?? ConfigSection()
        result.merge(new)
        return result
    }

    /// `profile prod` -> `prod` (the keyword and the name are separated by blanks).
    private static func suffix(of name: String, after keyword: String) -> String? {
        guard name.hasPrefix(keyword + " ") else { return nil }
        let rest = name.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
        return rest.isEmpty ? nil : rest
    }
}
