import CCrypto
import Foundation

/// AES-256-GCM through OpenSSL, one message per stored file. The stream is the 24-byte header
/// (`StoredFileHeader`), the ciphertext, and the 16-byte tag; the header and the file's identity
/// are the associated data, so a file moved to another name or backup fails its tag.
final class AESGCM {
    static let tagSize = 16
    static let nonceSize = 12

    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    private let encrypting: Bool

    /// `key` is 32 bytes, `nonce` 12.
    init(encrypting: Bool, key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) throws {
        precondition(key.count == 32 && nonce.count == Self.nonceSize)
        self.encrypting = encrypting
        context = EVP_CIPHER_CTX_new()
        output = .allocate(byteCount: FileOps.chunkSize + 32, alignment: 16)
        let ok = encrypting
            ? EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce)
            : EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce)
        guard ok == 1 else { throw AESGCMError.openSSL("init") }
        var length: Int32 = 0
        let aad = associatedData.withUnsafeBufferPointer { p in
            encrypting ? EVP_EncryptUpdate(context, nil, &length, p.baseAddress, Int32(p.count))
                       : EVP_DecryptUpdate(context, nil, &length, p.baseAddress, Int32(p.count))
        }
        guard aad == 1 else { throw AESGCMError.openSSL("associated data") }
    }

    deinit {
        EVP_CIPHER_CTX_free(context)
        output.deallocate()
    }

    /// Encrypts or decrypts `input` (at most a chunk), handing the result to `sink`.
    func update(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < input.count {
            let n = min(input.count - offset, FileOps.chunkSize)
            var length: Int32 = 0
            let src = input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            let dst = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let ok = encrypting ? EVP_EncryptUpdate(context, dst, &length, src, Int32(n))
                                : EVP_DecryptUpdate(context, dst, &length, src, Int32(n))
            guard ok == 1 else { throw AESGCMError.openSSL("update") }
            if length > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: Int(length))) }
            offset += n
        }
    }

    /// Ends encryption and returns the tag.
    func sealTag() throws -> [UInt8] {
        var length: Int32 = 0
        guard EVP_EncryptFinal_ex(context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &length) == 1 else {
            throw AESGCMError.openSSL("final")
        }
        var tag = [UInt8](repeating: 0, count: Self.tagSize)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagSize), &tag) == 1 else { throw AESGCMError.openSSL("tag") }
        return tag
    }

    /// Ends decryption: throws `authenticationFailed` unless `tag` proves the bytes and the associated data.
    func open(tag: [UInt8]) throws {
        var tag = tag
        guard tag.count == Self.tagSize,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagSize), &tag) == 1 else {
            throw AESGCMError.authenticationFailed
        }
        var length: Int32 = 0
        guard EVP_DecryptFinal_ex(context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &length) == 1 else {
            throw AESGCMError.authenticationFailed
        }
    }

    static func randomBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw AESGCMError.openSSL("random") }
        return bytes
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length)
        return Array(out.prefix(Int(length)))
    }
}

enum AESGCMError: Error, Equatable {
    case openSSL(String)
    case authenticationFailed
}
