import DRCore
import Foundation

/// Why one credential source gave no credentials.
///
/// `notConfigured`: the source is not set up here (no variable, no profile); the chain moves on.
/// `failed`: the source is set up but broken (unreadable token file, wrong token, STS refused);
/// the chain stops there, as the SDKs do, rather than quietly falling back to another identity.
/// Reasons are built from names, paths, URLs and statuses only — never from secrets or from a
/// source's raw output.
public struct CredentialProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case notConfigured, failed
    }
    public var kind: Kind
    public var source: String
    public var reason: String

    public init(_ kind: Kind, source: String, reason: String) {
        self.kind = kind
        self.source = source
        self.reason = reason
    }

    public static func notConfigured(_ source: String, _ reason: String) -> CredentialProviderError {
        CredentialProviderError(.notConfigured, source: source, reason: reason)
    }
    public static func failed(_ source: String, _ reason: String) -> CredentialProviderError {
        CredentialProviderError(.failed, source: source, reason: reason)
    }

    public var description: String { "\(source): \(reason)" }
}

/// The chain's one error: every source tried, in order, and why each gave nothing.
public struct NoCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var attempts: [CredentialProviderError]

    public init(attempts: [CredentialProviderError]) { self.attempts = attempts }

    /// The configured source that failed and ended the search, if one did.
    public var failedSource: CredentialProviderError? { attempts.last { $0.kind == .failed } }

    public var description: String {
        var lines: [String]
        if let failed = failedSource {
            lines = ["AWS credentials from \(failed.source) failed: \(failed.reason)",
                     "Sources tried, in order (the search stops at a source that is configured but broken):"]
        } else {
            lines = ["No AWS credentials found. Sources tried, in order:"]
        }
        lines += attempts.map { "  - \($0.source): \($0.reason)" }
        if failedSource == nil {
            lines.append("Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile or AWS_PROFILE.")
        }
        return lines.joined(separator: "\n")
    }

    /// Missing or broken credentials are bad input at the command line (exit 2).
    public var drError: DRError { .badInput(description) }
}
