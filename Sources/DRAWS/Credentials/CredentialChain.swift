import Foundation

/// An ordered list of credential providers; the first that gives credentials wins and is
/// remembered, so later calls (refreshes) go straight to it.
///
/// A provider that throws `CredentialProviderError.notConfigured` passes to the next one; one that
/// throws anything else is configured but broken and ends the search. Either way the caller gets
/// one `NoCredentialsError` listing every source tried and why it gave nothing.
/// Modelled on soto-core's `RuntimeSelectorCredentialProvider`.
public actor CredentialChain: AWSCredentialProvider {
    public nonisolated let providers: [any AWSCredentialProvider]
    private var selected: (any AWSCredentialProvider)?

    public nonisolated var name: String { "chain(\(providers.map(\.name).joined(separator: ", ")))" }

    public init(_ providers: [any AWSCredentialProvider]) {
        self.providers = providers
    }

    /// The name of the provider that answered, once one has.
    public var selectedSource: String? { selected?.name }

    public func credentials() async throws -> AWSCredentials {
        if let selected {
            do {
                return try await selected.credentials()
            } catch {
                throw NoCredentialsError(attempts: [Self.attempt(selected, error, forceFailed: true)])
            }
        }
        var attempts: [CredentialProviderError] = []
        for provider in providers {
            do {
                let credentials = try await provider.credentials()
                selected = provider
                return credentials
            } catch {
                try Task.checkCancellation()
                let attempt = Self.attempt(provider, error, forceFailed: false)
                attempts.append(attempt)
                if attempt.kind == .failed { break }
            }
        }
        throw NoCredentialsError(attempts: attempts)
    }

    /// Any error becomes one line: our own errors keep their reason; others (say, an STS error
    /// from part A's client) are described by their `description`, which never holds a secret.
    private static func attempt(_ provider: any AWSCredentialProvider, _ error: Error, forceFailed: Bool) -> CredentialProviderError {
        if let error = error as? CredentialProviderError {
            return CredentialProviderError(forceFailed ? .failed : error.kind, source: provider.name, reason: error.reason)
        }
        if let error = error as? NoCredentialsError, let last = error.attempts.last {
            return .failed(provider.name, last.description)
        }
        return .failed(provider.name, String(describing: error))
    }
}
