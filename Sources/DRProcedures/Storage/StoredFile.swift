import DRCore
import Foundation

/// How a file is kept in the repository, recorded beside its original size and checksum.
/// Records from before compression have none: the file is stored as it is.
struct StoredForm: Codable, Equatable, Sendable {
    /// `zstd`, or nil when not compressed.
    var compression: String?
    /// The key id when the file is encrypted (AES-256-GCM).
    var keyId: String?
    /// Size and SHA-256 of the bytes on disk, so a copy checks them without decoding.
    var size: Int64
    var sha256: String

    /// What the stored file's name adds to the original's: `.zst`, `.enc`, `.zst.enc`.
    var suffix: String { StoredForm.suffix(compressed: compression != nil, encrypted: keyId != nil) }

    static func suffix(compressed: Bool, encrypted: Bool) -> String { (compressed ? ".zst" : "") + (encrypted ? ".enc" : "") }

    /// The original name of a stored file, and whether the name is one of ours.
    static func originalName(of stored: String) -> String {
        var name = Substring(stored)
        if name.hasSuffix(".enc") { name = name.dropLast(4) }
        if name.hasSuffix(".zst") { name = name.dropLast(4) }
        return String(name)
    }
}

/// What the repository writes new files as: compressed (zstd at a level) or not, encrypted or not.
struct StorageCodec: Sendable {
    let level: Int32?
    let key: RepositoryKey?
    private let compressors: ObjectPool<ZstdCompressor>?

    init(compressionLevel: Int?, key: RepositoryKey?) {
        level = compressionLevel.map(Int32.init)
        self.key = key
        compressors = level.map { level in ObjectPool { ZstdCompressor(level: level) } }
    }

    static let plain = StorageCodec(compressionLevel: nil, key: nil)

    /// Stores files exactly as they are (a repository from before compression reads the same).
    var isPlain: Bool { level == nil && key == nil }
    var suffix: String { StoredForm.suffix(compressed: level != nil, encrypted: key != nil) }

    func withCompressor<R>(_ body: (ZstdCompressor?) throws -> R) rethrows -> R {
        guard let compressors else { return try body(nil) }
        return try compressors.with { c in
            c.reset()
            return try body(c)
        }
    }
}

/// Files in and out of the repository in one pass: each byte is read once, hashed as it is read
/// and as it is written, compressed and encrypted (or decrypted and decompressed) on the way.
enum StoredFile {
    /// The header of an encrypted file: magic, key id, nonce.
    static let magic: [UInt8] = Array("DRE1".utf8)
    static let headerSize = 4 + 8 + AESGCM.nonceSize

    private static let decompressors = ObjectPool { ZstdDecompressor() }

    struct Written: Equatable {
        /// The original bytes.
        var original: FileOps.Copied
        /// How they were stored; nil when stored as they are.
        var form: StoredForm?
    }

    /// Why a stored file cannot be restored. `description` is the detail after "is damaged: ".
    enum Damage: Error, CustomStringConvertible, Equatable {
        case stored(actual: FileOps.Copied, expected: FileOps.Copied)
        case undecodable(String)
        case truncated
        case authentication
        case original(actual: FileOps.Copied, expected: FileOps.Copied)

        var description: String {
            switch self {
            case let .stored(a, e):
                return "its checksum is \(a.sha256.prefix(12))… (\(a.size) bytes) but it was stored as \(e.sha256.prefix(12))… (\(e.size) bytes)"
            case .undecodable(let why): return "it cannot be decoded (\(why))"
            case .truncated: return "it ends early (truncated)"
            case .authentication: return "it fails its authentication check (altered, truncated, or moved from another file or backup)"
            case let .original(a, e):
                return "its content's checksum is \(a.sha256.prefix(12))… (\(a.size) bytes) but the original was \(e.sha256.prefix(12))… (\(e.size) bytes)"
            }
        }
    }

    /// An encrypted file met without the key it was written with.
    struct KeyProblem: Error, CustomStringConvertible {
        var fileKeyId: String
        var have: RepositoryKey?
        var description: String {
            have.map { "it is encrypted with the key \(fileKeyId), not with \($0)" } ?? "it is encrypted (key \(fileKeyId)) and no encryption key is configured"
        }
    }

    static func associatedData(header: [UInt8], identity: String) -> [UInt8] { header + Array(("dr:" + identity).utf8) }

    /// Reads `source` once and writes it to `destination` in the codec's form. A source that
    /// disappears before it is opened throws `FileOps.CopyError.sourceVanished` (a dropped relation).
    static func write(from source: String, to destination: String, codec: StorageCodec, identity: String,
                      sync: FileSync = .now, mode: mode_t = 0o600) throws -> Written {
        if codec.isPlain {
            return Written(original: try FileOps.copy(from: source, to: destination, sync: sync, mode: mode), form: nil)
        }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 {
            if errno == ENOENT { throw FileOps.CopyError.sourceVanished }
            throw FileOps.failure("open \(source)")
        }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard output >= 0 else { throw FileOps.failure("create \(destination)") }
        defer { close(output) }

        let storedHash = SHA256Hasher()
        var storedSize: Int64 = 0
        var flusher = FileOps.Flusher(sync: sync, fd: output, path: destination)
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            storedHash.update(bytes)
            try FileOps.writeAll(output, bytes, path: destination)
            storedSize += Int64(bytes.count)
            flusher.wrote(bytes.count)
        }
        var cipher: AESGCM?
        if let key = codec.key {
            let nonce = try AESGCM.randomBytes(AESGCM.nonceSize)
            let header = magic + hexBytes(key.id) + nonce
            cipher = try AESGCM(encrypting: true, key: key.bytes, nonce: nonce, associatedData: associatedData(header: header, identity: identity))
            try header.withUnsafeBytes { try emit($0) }
        }
        func seal(_ bytes: UnsafeRawBufferPointer) throws {
            if let cipher { try cipher.update(bytes, sink: emit) } else { try emit(bytes) }
        }
        let original: FileOps.Copied = try codec.withCompressor { compressor in
            let copied = try FileOps.readChunks(of: input, path: source) { chunk in
                if let compressor { try compressor.compress(chunk, end: false, sink: seal) } else { try seal(chunk) }
            }
            if let compressor { try compressor.compress(UnsafeRawBufferPointer(start: nil, count: 0), end: true, sink: seal) }
            return copied
        }
        if let cipher { try cipher.sealTag().withUnsafeBytes { try emit($0) } }
        try flusher.finish()
        let form = StoredForm(compression: codec.level == nil ? nil : "zstd", keyId: codec.key?.id,
                              size: storedSize, sha256: storedHash.finalize())
        return Written(original: original, form: form)
    }

    /// Reads the stored file `source` once and writes the original to `destination`, checking
    /// the stored bytes, their authentication and the original's checksum on the way. Throws
    /// `Damage` (and leaves `destination` for the caller to discard), `KeyProblem`, or
    /// `FileOps.CopyError.sourceVanished` when the stored file is not there.
    static func read(from source: String, form: StoredForm?, original expected: FileOps.Copied, key: RepositoryKey?,
                     identity: String, to destination: String, sync: FileSync = .none, mode: mode_t = 0o600) throws {
        guard let form else {
            let copied = try FileOps.copy(from: source, to: destination, sync: sync, mode: mode)
            guard copied == expected else { throw Damage.original(actual: copied, expected: expected) }
            return
        }
        if let keyId = form.keyId, key?.id != keyId { throw KeyProblem(fileKeyId: keyId, have: key) }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 {
            if errno == ENOENT { throw FileOps.CopyError.sourceVanished }
            throw FileOps.failure("open \(source)")
        }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard output >= 0 else { throw FileOps.failure("create \(destination)") }
        defer { close(output) }

        let originalHash = SHA256Hasher()
        var originalSize: Int64 = 0
        var flusher = FileOps.Flusher(sync: sync, fd: output, path: destination)
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            originalHash.update(bytes)
            try FileOps.writeAll(output, bytes, path: destination)
            originalSize += Int64(bytes.count)
            flusher.wrote(bytes.count)
        }
        return try decompressors.with { decompressor in
            decompressor.reset()
            let compressed = form.compression != nil
            // A decoding failure stops decoding but not reading: the stored checksum, known at the
            // end, is the first thing to report.
            var failure: Damage?
            func decode(_ bytes: UnsafeRawBufferPointer) throws {
                guard failure == nil, bytes.count > 0 else { return }
                do {
                    if compressed { try decompressor.decompress(bytes, sink: emit) } else { try emit(bytes) }
                } catch let error as ZstdError {
                    failure = .undecodable("zstd: \(error.description)")
                }
            }
            var header: [UInt8] = [], tail: [UInt8] = []
            var cipher: AESGCM?
            func decrypt(_ bytes: UnsafeRawBufferPointer) throws {
                guard failure == nil else { return }
                if cipher == nil {
                    cipher = try AESGCM(encrypting: false, key: key!.bytes, nonce: Array(header[12...]),
                                        associatedData: associatedData(header: header, identity: identity))
                }
                try cipher!.update(bytes, sink: decode)
            }
            let stored = try FileOps.readChunks(of: input, path: source) { chunk in
                guard form.keyId != nil else { return try decode(chunk) }
                var rest = chunk[...]
                if header.count < headerSize {
                    let take = min(headerSize - header.count, rest.count)
                    header += rest.prefix(take)
                    rest = rest.dropFirst(take)
                    if header.count == headerSize, Array(header.prefix(4)) != magic || hexString(header[4..<12]) != form.keyId {
                        failure = failure ?? .undecodable("not a dr encrypted file for key \(form.keyId!)")
                    }
                    guard header.count == headerSize else { return }
                }
                // Hold back the last bytes: they may be the tag.
                if rest.count >= AESGCM.tagSize {
                    try tail.withUnsafeBytes { try decrypt($0) }
                    try decrypt(UnsafeRawBufferPointer(rebasing: rest.dropLast(AESGCM.tagSize)))
                    tail = Array(rest.suffix(AESGCM.tagSize))
                } else {
                    let joined = tail + rest
                    try joined.prefix(max(0, joined.count - AESGCM.tagSize)).withUnsafeBytes { try decrypt($0) }
                    tail = Array(joined.suffix(AESGCM.tagSize))
                }
            }
            let storedExpected = FileOps.Copied(size: form.size, sha256: form.sha256)
            guard stored == storedExpected else { throw Damage.stored(actual: stored, expected: storedExpected) }
            if let failure { throw failure }
            if form.keyId != nil {
                guard header.count == headerSize, tail.count == AESGCM.tagSize else { throw Damage.truncated }
                if cipher == nil { try decrypt(UnsafeRawBufferPointer(start: nil, count: 0)) }
                do { try cipher!.open(tag: tail) } catch { throw Damage.authentication }
                if let failure { throw failure }
            }
            if compressed, !decompressor.frameComplete { throw Damage.truncated }
            try flusher.finish()
            let got = FileOps.Copied(size: originalSize, sha256: originalHash.finalize())
            guard got == expected else { throw Damage.original(actual: got, expected: expected) }
        }
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
