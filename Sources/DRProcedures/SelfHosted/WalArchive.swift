import DRCore
import Foundation

/// The WAL archive: `archive_command` pushes into it and `restore_command` fetches from it.
///
/// Each file is stored under its own name plus the suffix of its form (`.zst` compressed,
/// `.enc` encrypted, nothing when stored as it is), beside a small JSON record of the original's
/// SHA-256 and size, the stored bytes' SHA-256 and size, when the server finished writing it and
/// when it was archived. A push never overwrites: pushing a file that is already archived with
/// the same content succeeds (PostgreSQL may retry after a crash); different content is an error.
struct WalArchive {
    let directory: String

    struct Record: Codable, Equatable {
        /// The original file's checksum and size.
        var sha256: String
        var size: Int64
        var archivedAt: Date
        /// When the server last wrote the file (its modification time at push): for a completed
        /// segment, when it was completed. Absent in records from before it was kept.
        var writtenAt: Date?
        /// How the file is stored; absent when stored as it is.
        var stored: StoredForm?
        /// For a `.history` file: the switches it lists (so the window needs no key to read them).
        var timelineSwitches: [TimelineSwitch]?

        var original: FileOps.Copied { .init(size: size, sha256: sha256) }
        /// When the WAL in this file ends, as well as the repository knows it.
        var endedAt: Date { writtenAt.map { min($0, archivedAt) } ?? archivedAt }
    }

    enum PushOutcome: Equatable { case archived, alreadyArchived }

    func recordPath(_ name: String) -> String { directory + "/" + name + ".json" }
    /// Where `name` is stored, given its record.
    func storedPath(_ name: String, _ record: Record) -> String { directory + "/" + name + (record.stored?.suffix ?? "") }
    /// The stored file of `name` in any form, if there is one.
    func existingStoredPath(_ name: String) -> String? {
        for suffix in ["", ".zst", ".zst.enc", ".enc"] where FileManager.default.fileExists(atPath: directory + "/" + name + suffix) {
            return directory + "/" + name + suffix
        }
        return nil
    }

    static func identity(_ name: String) -> String { "wal/" + name }

    static func validName(_ name: String) throws -> WalFileName {
        guard let parsed = WalFileName(name) else {
            throw DRError(.invalidParameter, "\"\(name)\" is not a WAL file name (a segment like 000000010000000000000003, a .history, .backup or .partial file). archive_command passes %p and restore_command passes %f.")
        }
        return parsed
    }

    func push(source: String, codec: StorageCodec, now: Date = Date()) throws -> PushOutcome {
        let name = URL(fileURLWithPath: source).lastPathComponent
        let parsed = try Self.validName(name)
        var st = stat()
        guard stat(source, &st) == 0 else {
            throw DRError(.invalidParameter, "The WAL file \(source) does not exist. archive_command must pass %p, the file's path relative to the data directory.")
        }
        if existingStoredPath(name) != nil {
            let incoming = try FileOps.checksum(source)
            let existing = try? record(name).original
            if existing == incoming { return .alreadyArchived }
            throw DRError(.damaged, "The archive already holds \(name) with different content (sha256 \(existing?.sha256.prefix(12) ?? "unknown")…, incoming \(incoming.sha256.prefix(12))…). dr never overwrites an archived WAL file: two servers may be archiving into \(directory). Give each server its own repository.")
        }
        let writtenAt = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        // Stored under a temp name, then the record, then the rename: a file under its final name
        // always has its record beside it.
        let final = directory + "/" + name + codec.suffix
        let temp = FileOps.tempName(for: final)
        do {
            let written = try StoredFile.write(from: source, to: temp, codec: codec, identity: Self.identity(name), sync: .now, mode: 0o640)
            let switches = parsed.kind == .history
                ? FileManager.default.contents(atPath: source).map { TimelineSwitch.parse(String(decoding: $0, as: UTF8.self)) } : nil
            let record = Record(sha256: written.original.sha256, size: written.original.size, archivedAt: now,
                                writtenAt: writtenAt, stored: written.form, timelineSwitches: switches)
            try FileOps.writeAtomically(try DRJSON.encode(record), to: recordPath(name))
            try FileOps.rename(temp, final)
        } catch {
            unlink(temp)
            throw error
        }
        return .archived
    }

    enum FetchOutcome: Equatable { case restored, notInArchive }

    struct Corrupt: Error, CustomStringConvertible {
        var name: String
        var detail: String
        var description: String { "The archived WAL file \(name) is damaged: \(detail). Recovery cannot go past it; restore to an earlier time, or fetch this file from the DR copy (dr copy / --from-dr)." }
    }

    /// Writes the original of `name` to `destination`, checking the stored bytes and the original
    /// on the way. Renamed into place but not fsynced: PostgreSQL reads it at once, and after a
    /// crash recovery simply asks for it again (pgBackRest's archive-get does the same).
    func fetch(name: String, to destination: String, key: RepositoryKey?) throws -> FetchOutcome {
        _ = try Self.validName(name)
        guard existingStoredPath(name) != nil else { return .notInArchive }
        let record = try self.record(name)
        let temp = FileOps.tempName(for: destination)
        do {
            try StoredFile.read(from: storedPath(name, record), form: record.stored, original: record.original, key: key,
                                identity: Self.identity(name), to: temp)
            guard Foundation.rename(temp, destination) == 0 else { throw FileOps.failure("rename \(temp) to \(destination)") }
        } catch let damage as StoredFile.Damage {
            unlink(temp)
            throw Corrupt(name: name, detail: damage.description)
        } catch FileOps.CopyError.sourceVanished {
            unlink(temp)
            throw Corrupt(name: name, detail: "its record says it is stored as \(name)\(record.stored?.suffix ?? ""), which is missing")
        } catch {
            unlink(temp)
            throw error
        }
        return .restored
    }

    func record(_ name: String) throws -> Record {
        guard let data = FileManager.default.contents(atPath: recordPath(name)),
              let record = try? DRJSON.decode(Record.self, from: data) else {
            throw Corrupt(name: name, detail: "its checksum record \(name).json is missing or unreadable")
        }
        return record
    }

    /// Archived files (complete ones only: a file under its final name), sorted by name.
    func files() -> [WalFileName] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(names.filter { !FileOps.isTemp($0) && !$0.hasSuffix(".json") }.map(StoredForm.originalName))
            .compactMap(WalFileName.init).sorted()
    }

    func remove(_ name: String) {
        CallLog.record("remove \(directory)/…")
        if let path = existingStoredPath(name) { unlink(path) }
        unlink(recordPath(name))
    }
}
