import CCurl
import Foundation

/// One transfer's state, shared with libcurl's callbacks through an opaque pointer.
final class CurlTransfer: @unchecked Sendable {
    let maxResponseBytes: Int
    var body = Data()
    var headers: [String: String] = [:]
    var tooLarge = false
    private let lock = NSLock()
    private var cancelled = false

    init(maxResponseBytes: Int) { self.maxResponseBytes = maxResponseBytes }

    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }

    func perform(_ request: HTTPRequest, on h: UnsafeMutableRawPointer, timeout: Double,
                 options: CurlTransport.Options, pool: CurlHandlePool) throws -> HTTPResponse {
        guard !isCancelled else { throw CancellationError() }
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { _ = dr_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil); errorBuffer.deallocate() }
        let me = Unmanaged.passUnretained(self).toOpaque()

        _ = dr_curl_setopt_string(h, CURLOPT_URL, request.url.absoluteString)
        _ = dr_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = dr_curl_setopt_long(h, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        _ = dr_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        // TLS verification is never switched off; only the trusted CAs can change.
        _ = dr_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        _ = dr_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let ca = options.caBundlePath { _ = dr_curl_setopt_string(h, CURLOPT_CAINFO, ca) }
        _ = dr_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        _ = dr_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
        _ = dr_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = dr_curl_setopt_off(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxResponseBytes))
        _ = dr_curl_setopt_string(h, CURLOPT_PROXY, options.proxy.proxy(for: request.url) ?? "")
        _ = dr_curl_setopt_string(h, CURLOPT_NOPROXY, options.proxy.noProxy ?? "")
        _ = dr_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer)

        // Method and body.
        let method = request.method.uppercased()
        if method == "GET" && request.body.isEmpty {
            _ = dr_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        } else if method == "HEAD" {
            _ = dr_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        } else {
            if method == "POST" || !request.body.isEmpty {
                _ = dr_curl_setopt_long(h, CURLOPT_POST, 1)
                _ = dr_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
                if request.body.isEmpty {
                    _ = dr_curl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    request.body.withUnsafeBytes { raw in
                        _ = dr_curl_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                    }
                }
            }
            if method != "POST" { _ = dr_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method) }
        }

        // Headers: ours, no `Expect: 100-continue`, and no Content-Type curl would invent.
        var names = Set<String>()
        for (name, value) in request.headers {
            names.insert(name.lowercased())
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        headerList = curl_slist_append(headerList, "Expect:")
        if !names.contains("content-type") { headerList = curl_slist_append(headerList, "Content-Type:") }
        _ = dr_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)

        _ = dr_curl_setopt_write(h, { ptr, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let n = size * count
            if transfer.body.count + n > transfer.maxResponseBytes {
                transfer.tooLarge = true
                return 0
            }
            if let ptr { transfer.body.append(UnsafeRawPointer(ptr).assumingMemoryBound(to: UInt8.self), count: n) }
            return n
        }, me)
        _ = dr_curl_setopt_header(h, { ptr, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let n = size * count
            guard let ptr else { return n }
            let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                transfer.headers = [:] // a new response (after a proxy CONNECT or a 1xx)
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                transfer.headers[name] = value
            }
            return n
        }, me)
        _ = dr_curl_setopt_xferinfo(h, { userdata, _, _, _, _ in
            Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue().isCancelled ? 1 : 0
        }, me)

        let code = curl_easy_perform(h)
        if isCancelled { throw CancellationError() }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = "\(request.method) \(request.url.host ?? ""): " + (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            throw TransportError(tooLarge ? .responseTooLarge : Self.kind(code), message)
        }
        var status = 0
        _ = dr_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = dr_curl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &connects)
        if connects == 0 { pool.noteReuse() }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    static func kind(_ code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connectionFailed
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE: return .connectionDropped
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
             CURLE_SSL_CRL_BADFILE, CURLE_SSL_CLIENTCERT:
            return .tlsFailed
        case CURLE_FILESIZE_EXCEEDED: return .responseTooLarge
        default: return .other
        }
    }
}
