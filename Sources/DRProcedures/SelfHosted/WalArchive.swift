import DRCore
import Foundation

/// The WAL archive: `archive_command` pushes into it and `restore_command` fetches from it.
///
/// Each file is stored under its own name, beside a small JSON record of its SHA-256, size and
/// archive time. A push never overwrites: pushing a file that is already archived with the same
/// content succeeds (PostgreSQL may retry after a crash); different content is an error.
struct WalArchive {
    let directory: String

    struct Record: Codable, Equatable {
        var sha256: String
        var size: Int64
        var archivedAt: Date
    }

    enum PushOutcome: Equatable { case archived, alreadyArchived }

    func path(_ name: String) -> String { directory + "/" + name }
    func recordPath(_ name: String) -> String { directory + "/" + name + ".json" }

    static func validName(_ name: String) throws -> WalFileName {
        guard let parsed = WalFileName(name) else {
            throw DRError.badInput("\"\(name)\" is not a WAL file name (a segment like 000000010000000000000003, a .history, .backup or .partial file). archive_command passes %p and restore_command passes %f.")
        }
        return parsed
    }

    func push(source: String, now: Date = Date()) throws -> PushOutcome {
        let name = URL(fileURLWithPath: source).lastPathComponent
        _ = try Self.validName(name)
        guard FileManager.default.fileExists(atPath: source) else {
            throw DRError.badInput("The WAL file \(source) does not exist. archive_command must pass %p, the file's path relative to the data directory.")
        }
        let incoming = try FileOps.checksum(source)
        if FileManager.default.fileExists(atPath: path(name)) {
            let existing = try FileOps.checksum(path(name))
            if existing == incoming { return .alreadyArchived }
            throw DRError.problem("The archive already holds \(name) with different content (sha256 \(existing.sha256.prefix(12))…, incoming \(incoming.sha256.prefix(12))…). dr never overwrites an archived WAL file: two servers may be archiving into \(directory). Give each server its own repository.")
        }
        // The record first: a segment under its final name always has a record beside it.
        let record = Record(sha256: incoming.sha256, size: incoming.size, archivedAt: now)
        try FileOps.writeAtomically(try Self.encoder.encode(record), to: recordPath(name))
        let copied = try FileOps.copyAtomically(from: source, to: path(name), mode: 0o640)
        guard copied == incoming else {
            unlink(path(name))
            throw DRError.problem("\(source) changed while it was being archived; PostgreSQL will retry the push.")
        }
        return .archived
    }

    enum FetchOutcome: Equatable { case restored, notInArchive }

    struct Corrupt: Error, CustomStringConvertible {
        var name: String
        var detail: String
        var description: String { "The archived WAL file \(name) is damaged: \(detail). Recovery cannot go past it; restore to an earlier time, or fetch this file from the DR copy (dr copy / --from-dr)." }
    }

    /// Copies `name` to `destination` after checking its checksum.
    func fetch(name: String, to destination: String) throws -> FetchOutcome {
        _ = try Self.validName(name)
        guard FileManager.default.fileExists(atPath: path(name)) else { return .notInArchive }
        let record = try self.record(name)
        // Renamed into place but not fsynced: PostgreSQL reads it at once, and after a crash
        // recovery simply asks for it again (pgBackRest's archive-get does the same).
        let temp = FileOps.tempName(for: destination)
        let copied: FileOps.Copied
        do {
            copied = try FileOps.copy(from: path(name), to: temp, sync: false, mode: 0o600)
            guard Foundation.rename(temp, destination) == 0 else { throw FileOps.failure("rename \(temp) to \(destination)") }
        } catch {
            unlink(temp)
            throw error
        }
        guard copied.sha256 == record.sha256, copied.size == record.size else {
            unlink(destination)
            throw Corrupt(name: name, detail: "its checksum is \(copied.sha256.prefix(12))… (\(copied.size) bytes) but it was archived as \(record.sha256.prefix(12))… (\(record.size) bytes)")
        }
        return .restored
    }

    /// Checks one archived file against its record, without copying it.
    func verify(name: String) throws {
        let record = try self.record(name)
        let actual = try FileOps.checksum(path(name))
        guard actual.sha256 == record.sha256, actual.size == record.size else {
            throw Corrupt(name: name, detail: "its checksum is \(actual.sha256.prefix(12))… but it was archived as \(record.sha256.prefix(12))…")
        }
    }

    func record(_ name: String) throws -> Record {
        guard let data = FileManager.default.contents(atPath: recordPath(name)),
              let record = try? Self.decoder.decode(Record.self, from: data) else {
            throw Corrupt(name: name, detail: "its checksum record \(name).json is missing or unreadable")
        }
        return record
    }

    /// Archived files (complete ones only: a file under its final name), sorted by name.
    func files() -> [WalFileName] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !FileOps.isTemp($0) && !$0.hasSuffix(".json") }.compactMap(WalFileName.init).sorted()
    }

    func remove(_ name: String) {
        CallLog.record("remove \(directory)/…")
        unlink(path(name))
        unlink(recordPath(name))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(RFC3339.format(date, fractional: true))
        }
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not RFC 3339: \(text)"))
            }
            return date
        }
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()
}
