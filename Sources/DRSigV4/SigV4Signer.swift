import Foundation

/// The key material the signer needs. Kept separate from the AWS layer's credential type so this
/// module depends on hashing only. `description` never shows the secret or the token.
public struct SigV4Credentials: Sendable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
    public var description: String { "SigV4Credentials(accessKeyId: \(accessKeyId))" }
}

/// Every intermediate value of one signature, so tests can assert them byte for byte.
public struct SigV4Signature: Sendable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    public var signedHeaders: String
    public var credentialScope: String
}

/// A header-signed request: the headers to send (including `Authorization`) and the trace.
public struct SignedHeaders: Sendable {
    public var headers: [(name: String, value: String)]
    public var authorization: String
    public var trace: SigV4Signature
}

/// A presigned URL and its trace.
public struct PresignedURL: Sendable {
    public var url: URL
    public var trace: SigV4Signature
}

/// AWS Signature Version 4. A value: credentials, region and service in; the date is always
/// passed in, so tests pin it (soto-core's `AWSSigner` is the model).
public struct SigV4Signer: Sendable {
    public var credentials: SigV4Credentials
    public var region: String
    public var service: String
    /// Services other than S3 encode the (already encoded) path a second time.
    public var doubleEncodePath: Bool

    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// Headers that proxies and clients may change in flight; never signed.
    static let unsignableHeaders: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id", "connection", "content-length"]

    public init(credentials: SigV4Credentials, region: String, service: String, doubleEncodePath: Bool = true) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.doubleEncodePath = doubleEncodePath
    }

    // MARK: Header signing

    /// Signs with the `Authorization` header. Adds `Host`, `X-Amz-Date`, the session token and,
    /// when `contentSHA256Header` is set, `x-amz-content-sha256`.
    public func sign(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data = Data(),
                     date: Date, contentSHA256Header: Bool = false) -> SignedHeaders {
        let stamp = Self.timestamp(date)
        let payloadHash = Hashing.sha256Hex(body)
        var all = headers.filter { $0.name.lowercased() != "authorization" }
        func ensure(_ name: String, _ value: String) {
            all.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            all.append((name, value))
        }
        if !all.contains(where: { $0.name.lowercased() == "host" }) { all.append(("Host", Self.hostHeader(url))) }
        ensure("X-Amz-Date", stamp)
        if let token = credentials.sessionToken { ensure("X-Amz-Security-Token", token) }
        if contentSHA256Header { ensure("x-amz-content-sha256", payloadHash) }

        let trace = signature(method: method, url: url, query: Self.queryPairs(url), headers: all,
                              payloadHash: payloadHash, timestamp: stamp)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(trace.credentialScope), "
            + "SignedHeaders=\(trace.signedHeaders), Signature=\(trace.signature)"
        all.append(("Authorization", authorization))
        return SignedHeaders(headers: all, authorization: authorization, trace: trace)
    }

    // MARK: Query-string signing (presigned URLs)

    /// A URL anyone can use until `expires` seconds after `date` (RDS `PreSignedUrl`).
    /// The payload is not signed (`UNSIGNED-PAYLOAD`), as the SDKs do for presigned URLs.
    public func presign(method: String = "GET", url: URL, expires: Int, date: Date,
                        payloadHash: String = SigV4Signer.unsignedPayload) -> PresignedURL {
        let stamp = Self.timestamp(date)
        let scope = credentialScope(stamp)
        var query = Self.queryPairs(url)
        query.append(("X-Amz-Algorithm", Self.algorithm))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"))
        query.append(("X-Amz-Date", stamp))
        query.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-SignedHeaders", "host"))
        let trace = signature(method: method, url: url, query: query, headers: [("Host", Self.hostHeader(url))],
                              payloadHash: payloadHash, timestamp: stamp)
        let finalQuery = Self.canonicalQuery(query) + "&X-Amz-Signature=\(trace.signature)"
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        components.percentEncodedQuery = finalQuery
        return PresignedURL(url: components.url!, trace: trace)
    }

    // MARK: The steps

    func signature(method: String, url: URL, query: [(String, String)], headers: [(name: String, value: String)],
                   payloadHash: String, timestamp: String) -> SigV4Signature {
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [
            method.uppercased(),
            canonicalPath(url),
            Self.canonicalQuery(query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let scope = credentialScope(timestamp)
        let stringToSign = [Self.algorithm, timestamp, scope, Hashing.sha256Hex(canonicalRequest)].joined(separator: "\n")
        let key = signingKey(day: String(timestamp.prefix(8)))
        let signature = Hashing.hex(Hashing.hmacSHA256(key: key, data: Array(stringToSign.utf8)))
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
                              signedHeaders: signedHeaders, credentialScope: scope)
    }

    func credentialScope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    func signingKey(day: String) -> [UInt8] {
        var key = Hashing.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), data: Array(day.utf8))
        for part in [region, service, "aws4_request"] {
            key = Hashing.hmacSHA256(key: key, data: Array(part.utf8))
        }
        return key
    }

    func canonicalPath(_ url: URL) -> String {
        let path = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        if path.isEmpty { return "/" }
        guard doubleEncodePath else { return path }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { URIEncoding.encode(String($0)) }
            .joined(separator: "/")
    }

    static func queryPairs(_ url: URL) -> [(String, String)] {
        guard let query = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedQuery, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (URIEncoding.decode(String(parts[0])), parts.count > 1 ? URIEncoding.decode(String(parts[1])) : "")
        }
    }

    static func canonicalQuery(_ pairs: [(String, String)]) -> String {
        let encoded: [(key: String, value: String)] = pairs.map { (URIEncoding.encode($0.0), URIEncoding.encode($0.1)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.key == b.key ? a.value < b.value : a.key < b.key }
        return sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            if unsignableHeaders.contains(key) { continue }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
                .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[key, default: []].append(trimmed)
        }
        let names = merged.keys.sorted()
        let lines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    /// `host` or `host:port` when the port is not the scheme's default, as HTTP clients send it.
    public static func hostHeader(_ url: URL) -> String {
        let host = url.host ?? ""
        guard let port = url.port else { return host }
        let scheme = url.scheme?.lowercased()
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return host }
        return "\(host):\(port)"
    }

    /// `20150830T123600Z`.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}
