import DRCore
import Foundation
import Logging

/// `dr copy` for self-hosted PostgreSQL: brings the DR repository up to date with the primary one.
///
/// Every file is copied to a temp name, hashed as it is copied, checked against the checksum the
/// primary recorded, fsynced and renamed. A backup is copied into a hidden work folder and
/// renamed into place after its `backup.json`, so an interrupted copy never looks complete; a
/// rerun keeps the files already copied whose checksums match and copies the rest.
struct RepositoryCopy {
    let source: Repository
    let destination: Repository
    let logger: Logger
    var jobs = PostgresTargetSettings.defaultJobs

    struct Outcome {
        var copied: [String] = []
        var alreadyPresent = 0
        var bytes: Int64 = 0
    }

    /// What the DR repository lacks: WAL files and backups (only `backupID`, when given).
    struct Pending: Equatable {
        var wal: [String]
        var backups: [String]
        var alreadyPresent: Int
        var isEmpty: Bool { wal.isEmpty && backups.isEmpty }
    }

    func pending(only backupID: String? = nil) throws -> Pending {
        try source.checkUsable(writableBy: nil)
        let backups = source.backups.list().filter { backupID == nil || $0.id == backupID }
        if let backupID, backups.isEmpty {
            throw DRError(.notFound, "There is no complete backup \"\(backupID)\" in \(source.root). Nothing was changed.")
        }
        let wal = source.wal.files().map(\.text)
        let missingWal = wal.filter { destination.wal.existingStoredPath($0) == nil }
        let missingBackups = backups.map(\.id).filter { destination.backups.load($0) == nil }
        return Pending(wal: missingWal, backups: missingBackups,
                       alreadyPresent: (wal.count - missingWal.count) + (backups.count - missingBackups.count))
    }

    /// Copies what `pending` found missing (a file that arrived meanwhile is kept as it is).
    func run(_ pending: Pending) throws -> Outcome {
        try source.checkUsable(writableBy: nil)
        try destination.checkUsable(writableBy: OSUser.current, role: "DR repository")
        // Files are copied as they are stored (still compressed, still encrypted): the DR copy
        // needs no key, but it must not mix keys.
        if let keyId = source.info?.keyId {
            if let other = destination.info?.keyId, other != keyId {
                throw DRError(RepositoryKey.wrongKey, "The DR repository \(destination.root) holds files encrypted with the key \(other), but \(source.root) uses the key \(keyId); one repository never mixes keys. Give the DR copy its own empty folder. Nothing was changed.")
            }
            if destination.info == nil {
                try FileOps.writeAtomically(try DRJSON.encode(source.info!), to: destination.infoPath)
            }
        }
        try destination.prepare(walOwner: nil)
        var outcome = Outcome(alreadyPresent: pending.alreadyPresent)
        // WAL first: a backup in the DR repository is only useful with the WAL it needs.
        try copyWal(pending.wal, &outcome)
        for id in pending.backups {
            guard let backup = source.backups.load(id) else {
                throw DRError(.notFound, "The backup \(id) disappeared from \(source.root) during the copy (retention of a concurrent snapshot?). Run the copy again; the DR repository is consistent.")
            }
            try copyBackup(backup, &outcome)
        }
        return outcome
    }

    private func copyWal(_ names: [String], _ outcome: inout Outcome) throws {
        let from = source.wal, to = destination.wal
        for name in names {
            if to.existingStoredPath(name) != nil { continue }
            CallLog.record("copy into \(destination.root)/wal")
            let record: WalArchive.Record
            do { record = try from.record(name) } catch let corrupt as WalArchive.Corrupt {
                throw DRError(.damaged, ErrorText(corrupt.description))
            }
            let storedName = name + (record.stored?.suffix ?? "")
            let temp = FileOps.tempName(for: to.directory + "/" + storedName)
            let copied = try FileOps.copy(from: from.directory + "/" + storedName, to: temp, sync: .now, mode: 0o644)
            let expected = record.stored.map { FileOps.Copied(size: $0.size, sha256: $0.sha256) } ?? record.original
            guard copied == expected else {
                unlink(temp)
                throw DRError(.damaged, "The archived WAL file \(storedName) in \(source.root) does not match its checksum; it was not copied. Its content is damaged in the primary repository.")
            }
            try FileOps.writeAtomically(try DRJSON.encode(record), to: to.recordPath(name))
            try FileOps.rename(temp, to.directory + "/" + storedName)
            outcome.copied.append("wal/" + storedName)
            outcome.bytes += copied.size
        }
    }

    private func copyBackup(_ backup: BackupInfo, _ outcome: inout Outcome) throws {
        let target = destination.backups
        if target.load(backup.id) != nil { outcome.alreadyPresent += 1; return }
        CallLog.record("copy into \(destination.root)/backups/\(backup.id)")
        let work = target.workPath(backup.id)
        let from = source.backups.dataPath(backup.id)
        for dir in try DataDirectoryWalker(root: from).list().directories {
            try FileOps.makeDirectory(work + "/data/" + dir, mode: 0o700)
        }
        try FileOps.makeDirectory(work + "/data", mode: 0o700)
        logger.info("copying backup", metadata: ["id": "\(backup.id)", "files": "\(backup.files.count)"])
        let files = backup.files.sorted { $0.storedChecksum.size > $1.storedChecksum.size }
        let copier = ParallelMap<Int64>(count: files.count, workers: jobs)
        try copier.run { i in
            let entry = files[i]
            let dest = work + "/data/" + entry.storedPath
            // Resume: a file already copied (under its final name in the work folder) and intact is kept.
            if let present = try? FileOps.checksum(dest), present == entry.storedChecksum { return 0 }
            let temp = FileOps.tempName(for: dest)
            let copied = try FileOps.copy(from: from + "/" + entry.storedPath, to: temp, sync: .now)
            guard copied == entry.storedChecksum else {
                unlink(temp)
                throw DRError(.damaged, "The backup \(backup.id) in \(source.root) is damaged: \(entry.storedPath) does not match its checksum. It was not copied.")
            }
            try FileOps.rename(temp, dest)
            return copied.size
        }
        outcome.bytes += copier.values.reduce(0) { $0 + ($1 ?? 0) }
        try FileOps.writeAtomically(try DRJSON.encode(backup), to: work + "/" + BackupInfo.fileName)
        try FileOps.rename(work, target.path(backup.id))
        outcome.copied.append("backups/" + backup.id)
    }
}
