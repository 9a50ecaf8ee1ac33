import Foundation

/// The small HTTP client the container and instance-metadata providers share: short timeouts,
/// a fixed attempt budget (retrying only when there was no answer or a 5xx), and errors that
/// name the URL and status but never echo a body or a token.
struct MetadataHTTPClient: Sendable {
    let transport: any HTTPTransport
    /// Seconds per attempt.
    let timeout: Double
    /// Attempts per request, the first included.
    let attempts: Int

    /// Sends the request; returns the response whatever its status, or throws after the budget
    /// is spent without one. `unreachable` says how to report "nobody answered".
    func send(_ request: HTTPRequest, source: String, unreachable: CredentialProviderError.Kind) async throws -> HTTPResponse {
        var lastProblem = ""
        for attempt in 1...max(1, attempts) {
            do {
                let response = try await transport.send(request, timeout: timeout)
                if response.status >= 500, attempt < attempts {
                    lastProblem = "HTTP \(response.status)"
                    continue
                }
                return response
            } catch let error as TransportError {
                lastProblem = "\(error.kind.rawValue): \(error.message)"
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastProblem = String(describing: error)
            }
            try Task.checkCancellation()
        }
        throw CredentialProviderError(unreachable, source: source,
                                      reason: "no answer from \(Self.display(request.url)) after \(attempts) attempt(s) of \(Self.seconds(timeout)) (\(lastProblem))")
    }

    /// The URL without any query (a query could carry a credential).
    static func display(_ url: URL) -> String {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.absoluteString }
        parts.query = nil
        parts.user = nil
        parts.password = nil
        return parts.string ?? url.absoluteString
    }

    static func seconds(_ t: Double) -> String { t == t.rounded() ? "\(Int(t))s" : "\(t)s" }
}
