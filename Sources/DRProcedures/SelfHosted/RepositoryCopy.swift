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
        let missingWal = wal.filter { !FileManager.default.fileExists(atPath: destination.wal.path($0)) }
        let missingBackups = backups.map(\.id).filter { destination.backups.load($0) == nil }
        return Pending(wal: missingWal, backups: missingBackups,
                       alreadyPresent: (wal.count - missingWal.count) + (backups.count - missingBackups.count))
    }

    /// Copies what `pending` found missing (a file that arrived meanwhile is kept as it is).
    func run(_ pending: Pending) throws -> Outcome {
        try source.checkUsable(writableBy: nil)
        try destination.checkUsable(writableBy: OSUser.current, role: "DR repository")
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
            if FileManager.default.fileExists(atPath: to.path(name)) { continue }
            CallLog.record("copy into \(destination.root)/wal")
            let record: WalArchive.Record
            do { record = try from.record(name) } catch let corrupt as WalArchive.Corrupt {
                throw DRError.problem(corrupt.description)
            }
            try FileOps.writeAtomically(try WalArchive.encoder.encode(record), to: to.recordPath(name))
            let temp = FileOps.tempName(for: to.path(name))
            let copied = try FileOps.copy(from: from.path(name), to: temp, sync: true, mode: 0o644)
            guard copied.sha256 == record.sha256, copied.size == record.size else {
                unlink(temp)
                throw DRError.problem("The archived WAL file \(name) in \(source.root) does not match its checksum; it was not copied. Its content is damaged in the primary repository.")
            }
            try FileOps.rename(temp, to.path(name))
            outcome.copied.append("wal/" + name)
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
        for entry in backup.files {
            let dest = work + "/data/" + entry.path
            // Resume: a file already copied (under its final name in the work folder) and intact is kept.
            if let present = try? FileOps.checksum(dest), present.sha256 == entry.sha256, present.size == entry.size { continue }
            let temp = FileOps.tempName(for: dest)
            let copied = try FileOps.copy(from: from + "/" + entry.path, to: temp, sync: true)
            guard copied.sha256 == entry.sha256, copied.size == entry.size else {
                unlink(temp)
                throw DRError.problem("The backup \(backup.id) in \(source.root) is damaged: \(entry.path) does not match its checksum. It was not copied.")
            }
            try FileOps.rename(temp, dest)
            outcome.bytes += copied.size
        }
        try FileOps.writeAtomically(try WalArchive.encoder.encode(backup), to: work + "/" + BackupInfo.fileName)
        try FileOps.rename(work, target.path(backup.id))
        outcome.copied.append("backups/" + backup.id)
    }
}
