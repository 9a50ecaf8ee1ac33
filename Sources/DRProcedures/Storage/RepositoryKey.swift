import DRCore
import Foundation

/// Where a target's encryption key comes from (`encryption: { key_file: PATH }` or `{ key_env: NAME }`).
public enum KeySource: Sendable, Equatable {
    case file(String)
    case environment(String)

    /// Where it is, in words and without the key: `the key file /etc/dr/key`.
    var place: String {
        switch self {
        case .file(let path): return "the key file \(path)"
        case .environment(let name): return "the environment variable \(name)"
        }
    }
}

/// The 32-byte key a repository's files are encrypted with (AES-256-GCM). It is identified by a
/// key id (an HMAC of a constant under the key), which the repository and every encrypted file
/// record, so a wrong key is refused before anything is written. The key itself is never printed:
/// `description` shows the id only.
struct RepositoryKey: Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let id: String
    let source: KeySource

    var description: String { "key \(id) from \(source.place)" }

    init(bytes: [UInt8], source: KeySource) {
        precondition(bytes.count == 32)
        self.bytes = bytes
        self.source = source
        id = AESGCM.hmacSHA256(key: bytes, message: Array("dr repository key id v1".utf8)).prefix(8)
            .map { String(format: "%02x", $0) }.joined()
    }

    static let wrongKey = DRError.Code("wrong_key", .badInput)

    /// Reads the key: 64 hexadecimal characters or base64 of 32 bytes (`openssl rand -hex 32`).
    static func load(_ source: KeySource, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RepositoryKey {
        let text: String
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DRError(.invalidConfig, "The encryption key file \(path) does not exist or cannot be read by this user. Create it (e.g. `openssl rand -hex 32 > \(path)`, readable by the user that runs PostgreSQL and dr) or fix `encryption.key_file`. Nothing was changed.")
            }
            text = String(decoding: data, as: UTF8.self)
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw DRError(.invalidConfig, "The environment variable \(name) (named by `encryption.key_env`) is not set. Set it to the repository's key (64 hexadecimal characters, e.g. from `openssl rand -hex 32`) in the environment of dr and of the PostgreSQL server. Nothing was changed.")
            }
            text = value
        }
        guard let bytes = decode(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw DRError(.invalidConfig, "\(source.place.prefix(1).uppercased() + source.place.dropFirst()) does not hold a 32-byte key written as 64 hexadecimal characters or as base64. Make one with `openssl rand -hex 32`. Nothing was changed.")
        }
        return RepositoryKey(bytes: bytes, source: source)
    }

    static func decode(_ text: String) -> [UInt8]? {
        if text.count == 64, text.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                bytes.append(UInt8(text[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
        if let data = Data(base64Encoded: text), data.count == 32 { return [UInt8](data) }
        return nil
    }
}
