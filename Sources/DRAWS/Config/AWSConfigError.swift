import DRCore
import Foundation

extension Parameter {
    /// The AWS profile a command or step names (`--profile` on the command line).
    public static let profile = Parameter("profile")
}

/// A problem with AWS settings (files, profile, region, endpoint, retry settings).
/// All of them are bad input: nothing was sent anywhere. Messages name the setting and the fix
/// and never repeat a file's content; settings the caller passed are named as parameters
/// (`\(param: .region)`), worded by the edge.
public struct AWSConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case malformedFile, unreadableFile, profileNotFound, noRegion, invalidRegion, invalidEndpoint, invalidSetting
    }
    let code: Code
    public let text: ErrorText

    /// The paragraph in neutral words.
    public var message: String { text.description }
    public var description: String { message }
    public var drError: DRError { DRError(.invalidConfig, text) }

    public var isProfileNotFound: Bool { code == .profileNotFound }
    public var isNoRegion: Bool { code == .noRegion }
    public var isInvalidRegion: Bool { code == .invalidRegion }

    static func malformedFile(_ error: ConfigFileError) -> AWSConfigError {
        AWSConfigError(code: .malformedFile, text: "The AWS shared config file \(error.description). Fix the file (see the AWS CLI 'config and credential file settings').")
    }

    static func unreadableFile(_ path: String) -> AWSConfigError {
        AWSConfigError(code: .unreadableFile, text: "Cannot read the AWS shared config file \(path): check its permissions.")
    }

    static func profileNotFound(_ name: String, files: SharedConfigFiles) -> AWSConfigError {
        let known = files.profileNames
        let there = known.isEmpty ? " (neither file defines any profile)." : " (profiles there: \(known.joined(separator: ", ")))."
        return AWSConfigError(code: .profileNotFound, text: "The AWS profile '\(name)' is not defined in \(files.configFilePath) or \(files.credentialsFilePath)\(there) Check \(param: .profile) / AWS_PROFILE, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE.")
    }

    static func noRegion(profile: String) -> AWSConfigError {
        AWSConfigError(code: .noRegion, text: "No AWS region is set: give \(param: .region), set AWS_REGION (or AWS_DEFAULT_REGION), or add 'region = ...' to the profile '\(profile)' in the AWS config file.")
    }

    static func invalidRegion(_ region: String, source: ErrorText) -> AWSConfigError {
        let near = AWSRegion.similar(to: region)
        let similar = near.isEmpty ? "" : " (similar: \(near.joined(separator: ", ")))"
        return AWSConfigError(code: .invalidRegion, text: "\"\(region)\" (\(source)) is not an AWS region dr knows. Use a region name such as us-east-1, eu-central-2, us-gov-west-1 or cn-north-1\(similar). Nothing was changed.")
    }

    static func invalidEndpoint(_ value: String, source: String) -> AWSConfigError {
        AWSConfigError(code: .invalidEndpoint, text: "The endpoint URL '\(value)' (from \(source)) is not valid: expected http:// or https:// followed by a host, e.g. http://127.0.0.1:5000.")
    }

    static func invalidSetting(_ name: String, value: String, source: String, expected: String) -> AWSConfigError {
        AWSConfigError(code: .invalidSetting, text: "\(name) = '\(value)' (from \(source)) is not valid: expected \(expected).")
    }
}
