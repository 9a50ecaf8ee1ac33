import DRCore
import Foundation

/// The changes dr made to one failover entry (a DNS record, a service-file entry), newest first,
/// kept in dr's state directory: what `--undo` walks back and `--history` shows. Written
/// atomically; a missing file is an empty history.
struct FailoverLog {
    let file: String
    let key: String

    init(directory: String, key: String) {
        self.key = key
        file = directory + "/failover/" + Self.fileName(key)
    }

    private struct Stored: Codable {
        var key: String
        var changes: [FailoverChange]
    }

    func entries() -> [FailoverChange] {
        guard let data = FileManager.default.contents(atPath: file),
              let stored = try? DRJSON.decode(Stored.self, from: data) else { return [] }
        return stored.changes
    }

    func push(_ change: FailoverChange) throws { try write([change] + entries()) }

    func pop() throws { try write(Array(entries().dropFirst())) }

    private func write(_ changes: [FailoverChange]) throws {
        let dir = (file as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try DRJSON.encode(Stored(key: key, changes: changes)).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw DRError(.storage, "dr could not record the failover history in \(file): \(error.localizedDescription). Check that the state directory (DR_STATE_DIR) is writable. Nothing was changed.")
        }
    }

    /// The keys of every entry with a history under `directory`, starting with `prefix`.
    static func keys(directory: String, prefix: String) -> [String] {
        let dir = directory + "/failover"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { name in
            guard name.hasSuffix(".json"), let data = FileManager.default.contents(atPath: dir + "/" + name),
                  let stored = try? DRJSON.decode(Stored.self, from: data), stored.key.hasPrefix(prefix) else { return nil }
            return String(stored.key.dropFirst(prefix.count))
        }
    }

    /// A file name for any key: readable where it can be, unique always.
    static func fileName(_ key: String) -> String {
        let readable = String(key.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "@" ? $0 : "_" }.prefix(80))
        return readable + "-" + SHA256Hasher.hex(of: Data(key.utf8)).prefix(12) + ".json"
    }
}
