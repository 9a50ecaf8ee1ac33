import Foundation

/// The standard proxy variables, as the AWS SDKs and curl read them: `HTTPS_PROXY`/`https_proxy`
/// for https URLs, `HTTP_PROXY`/`http_proxy` for http URLs, and `NO_PROXY`/`no_proxy` (comma-separated
/// hosts, domains with or without a leading dot, IPs, CIDR ranges, or `*`) to bypass them.
public struct ProxySettings: Sendable, Equatable {
    public var httpProxy: String?
    public var httpsProxy: String?
    public var noProxy: String?

    public init(httpProxy: String? = nil, httpsProxy: String? = nil, noProxy: String? = nil) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = noProxy
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> ProxySettings {
        func pick(_ names: String...) -> String? {
            names.lazy.compactMap { env[$0] }.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        return ProxySettings(httpProxy: pick("http_proxy", "HTTP_PROXY"),
                             httpsProxy: pick("https_proxy", "HTTPS_PROXY"),
                             noProxy: pick("no_proxy", "NO_PROXY"))
    }

    /// The proxy for a URL's scheme, before `NO_PROXY` (libcurl applies that list itself).
    public func proxy(for url: URL) -> String? {
        url.scheme?.lowercased() == "https" ? httpsProxy : httpProxy
    }
}
