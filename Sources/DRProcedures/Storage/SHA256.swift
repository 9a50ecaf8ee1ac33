import CCrypto
import Foundation

/// Streaming SHA-256 (OpenSSL), for per-file and per-segment checksums.
final class SHA256Hasher {
    private let context: OpaquePointer

    init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The digest as lower-case hex. The hasher cannot be used afterwards.
    func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    static func hex(of data: Data) -> String {
        let h = SHA256Hasher()
        h.update(data)
        return h.finalize()
    }
}
