import CCurl
import DRCore
import Foundation

/// The real HTTP transport, over libcurl. TLS verification is always on (a custom CA bundle can
/// be trusted explicitly); connect and total timeouts; the standard proxy variables; bounded
/// request and response sizes; connections reused through a pool of easy handles. Each transfer
/// runs on a dedicated thread, never on one of Swift's cooperative threads.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    public struct Options: Sendable {
        /// A PEM bundle to trust instead of the system's (for private CAs). Verification stays on.
        public var caBundlePath: String?
        public var connectTimeout: Double
        public var maxRequestBytes: Int
        public var maxResponseBytes: Int
        public var proxy: ProxySettings
        /// Idle easy handles (and so connections) kept for reuse.
        public var maxIdleHandles: Int

        public init(caBundlePath: String? = nil, connectTimeout: Double = 10, maxRequestBytes: Int = 16 << 20,
                    maxResponseBytes: Int = 64 << 20, proxy: ProxySettings = .fromEnvironment(), maxIdleHandles: Int = 8) {
            self.caBundlePath = caBundlePath
            self.connectTimeout = connectTimeout
            self.maxRequestBytes = maxRequestBytes
            self.maxResponseBytes = maxResponseBytes
            self.proxy = proxy
            self.maxIdleHandles = maxIdleHandles
        }
    }

    public let options: Options
    private let pool: CurlHandlePool

    public init(options: Options = Options()) {
        _ = CurlGlobal.initialized
        self.options = options
        self.pool = CurlHandlePool(maxIdle: options.maxIdleHandles)
    }

    /// How many transfers reused a connection libcurl already had open (for tests and diagnostics).
    public var reusedConnections: Int { pool.reused }

    public func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        guard request.body.count <= options.maxRequestBytes else {
            throw TransportError(.invalidRequest, "request body of \(request.body.count) bytes exceeds the limit of \(options.maxRequestBytes)")
        }
        guard let scheme = request.url.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw TransportError(.invalidRequest, "unsupported URL scheme in \(request.url.absoluteString)")
        }
        AWSRequestRecorder.shared?.recordHTTP(request)
        let transfer = CurlTransfer(maxResponseBytes: options.maxResponseBytes)
        let options = self.options
        let pool = self.pool
        return try await withTaskCancellationHandler {
            try await offloadBlocking {
                let easy = pool.checkOut()
                defer { pool.checkIn(easy) }
                return try transfer.perform(request, on: easy, timeout: timeout, options: options, pool: pool)
            }
        } onCancel: {
            transfer.cancel()
        }
    }
}

enum CurlGlobal {
    static let initialized: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()
}

/// Idle easy handles. An easy handle keeps its connection cache across `curl_easy_reset`, so
/// checking one out again reuses its open connection.
final class CurlHandlePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []
    private let maxIdle: Int
    private var reuseCount = 0

    init(maxIdle: Int) { self.maxIdle = maxIdle }

    func checkOut() -> UnsafeMutableRawPointer {
        if let h = lock.withLock({ idle.popLast() }) {
            curl_easy_reset(h)
            return h
        }
        return curl_easy_init()
    }

    func checkIn(_ handle: UnsafeMutableRawPointer) {
        let keep = lock.withLock { () -> Bool in
            guard idle.count < maxIdle else { return false }
            idle.append(handle)
            return true
        }
        if !keep { curl_easy_cleanup(handle) }
    }

    func noteReuse() { lock.withLock { reuseCount += 1 } }
    var reused: Int { lock.withLock { reuseCount } }

    deinit { for h in idle { curl_easy_cleanup(h) } }
}
