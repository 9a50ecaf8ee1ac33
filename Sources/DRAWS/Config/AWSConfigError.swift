import DRCore
import Foundation

/// A problem with AWS settings (files, profile, region, endpoint, retry settings).
/// All of them are bad input: nothing was sent anywhere. Messages name the setting and the fix
/// and never repeat a file's content.
public struct AWSConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case malformedFile, unreadableFile, profileNotFound, noRegion, invalidRegion, invalidEndpoint, invalidSetting
    }
    let code: Code
    public let message: String

    public var description: String { message }
    public var drError: DRError { .badInput(message) }

    public var isProfileNotFound: Bool { code == .profileNotFound }
    public var isNoRegion: Bool { code == .noRegion }
    public var isInvalidRegion: Bool { code == .invalidRegion }

    static func malformedFile(_ error: ConfigFileError) -> AWSConfigError {
        AWSConfigError(code: .malformedFile, message: "The AWS shared config file \(error.description). Fix the file (see the AWS CLI 'config and credential file settings').")
    }

    static func unreadableFile(_ path: String) -> AWSConfigError {
        AWSConfigError(code: .unreadableFile, message: "Cannot read the AWS shared config file \(path): check its permissions.")
    }

    static func profileNotFound(_ name: String, files: SharedConfigFiles) -> AWSConfigError {
        let known = files.profileNames
        return AWSConfigError(code: .profileNotFound, message: "The AWS profile '\(name)' is not defined in \(files.configFilePath) or \(files.credentialsFilePath)"
            + (known.isEmpty ? " (neither file defines any profile)." : " (profiles there: \(known.joined(separator: ", "))).")
            + " Check --profile / AWS_PROFILE, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE.")
    }

    static func noRegion(profile: String) -> AWSConfigError {
        AWSConfigError(code: .noRegion, message: "No AWS region is set: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or add 'region = ...' to the profile '\(profile)' in the AWS config file.")
    }

    static func invalidRegion(_ region: String, source: String) -> AWSConfigError {
        AWSConfigError(code: .invalidRegion, message: "'\(region)' (from \(source)) does not look like an AWS region; expected a name such as us-east-1, eu-central-2, us-gov-west-1 or cn-north-1.")
    }

    static func invalidEndpoint(_ value: String, source: String) -> AWSConfigError {
        AWSConfigError(code: .invalidEndpoint, message: "The endpoint URL '\(value)' (from \(source)) is not valid: expected http:// or https:// followed by a host, e.g. http://127.0.0.1:5000.")
    }

    static func invalidSetting(_ name: String, value: String, source: String, expected: String) -> AWSConfigError {
        AWSConfigError(code: .invalidSetting, message: "\(name) = '\(value)' (from \(source)) is not valid: expected \(expected).")
    }
}
