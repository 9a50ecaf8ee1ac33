import DRCore
import Foundation
import Logging

/// `dr snapshot` for self-hosted PostgreSQL: a base backup into the repository.
///
/// How: `pg_backup_start` (fast checkpoint) on one connection, a copy of the data directory's
/// files that hashes each file as it goes, then `pg_backup_stop(wait_for_archive => true)`,
/// which returns the backup label and waits until the WAL the backup needs is archived. This is
/// pgBackRest's way: files are read straight from disk (so `dr` must run on the database host
/// with read access to the data directory), pages torn by concurrent writes are repaired by
/// replaying the archived WAL from the start LSN, and the backup is consistent at the stop LSN.
/// The copy runs on `jobs` threads, each file read once: hashed, compressed (zstd) and encrypted
/// (AES-256-GCM) on its way into the repository, as the target's settings say.
struct BaseBackup {
    let targetName: String
    let settings: PostgresTargetSettings
    let repository: Repository
    let logger: Logger
    var clock: DRClock = SystemClock()

    struct Outcome {
        var info: BackupInfo
        var created: Bool
    }

    /// Takes the backup `id` (decided by the caller: `weeklyID` or `adhocID`).
    func run(id: String, weekly: Bool) throws -> Outcome {
        let source = try SourceDatabase.connect(settings.conninfo, purpose: "take a base backup")
        defer { source.connection.close() }
        try Preflight(settings: settings, repository: repository).checkForBackup(source)
        let codec = try settings.storageCodec()

        let week = weekly ? ISOWeek.name(of: clock.now()) : nil
        try repository.checkKey(codec.key, recording: true)
        try repository.prepare(walOwner: nil)
        let work = repository.backups.workPath(id)
        // Backups killed midway (their work folders): the target's lock, held by whoever runs
        // this, means no other backup into this repository is under way.
        for stale in repository.backups.abandonedWork() { try? FileManager.default.removeItem(atPath: stale) }
        defer { try? FileManager.default.removeItem(atPath: work) }
        try FileOps.makeDirectory(work + "/data", mode: 0o700)

        let dataDirectory = try source.dataDirectory
        let startedAt = clock.now()
        logger.info("starting base backup", metadata: ["id": "\(id)", "server": "\(source.safeName)"])
        CallLog.record("pg_backup_start, copy the data directory, pg_backup_stop")
        let startLSN = try source.backupStart(label: "dr \(targetName) \(id)")
        let files = try copyFiles(from: dataDirectory, to: work + "/data", id: id, codec: codec)
        let extra = try copyExternalConfig(source: source, dataDirectory: dataDirectory, into: work + "/data", id: id, codec: codec)
        let stop = try source.backupStop()
        let label = BackupLabel(stop.label)
        let segmentSize = UInt64(try source.setting("wal_segment_size")) ?? 16 << 20
        let timeline = label.timeline ?? 1
        let stopWal = WalFileName.segment(containing: max(stop.lsn, 1) - 1, timeline: timeline, segmentSize: segmentSize).text
        try waitForArchive(stopWal, source: source)
        let stoppedAt = clock.now()
        let allFiles = (files + extra).sorted { $0.path < $1.path }
        let info = BackupInfo(
            id: id, target: targetName, kind: weekly ? "weekly" : "adhoc", isoWeek: week,
            startLsn: LSN.format(startLSN), stopLsn: LSN.format(stop.lsn),
            startWal: WalFileName.segment(containing: startLSN, timeline: timeline, segmentSize: segmentSize).text,
            stopWal: stopWal,
            timeline: timeline, segmentSize: segmentSize, startedAt: startedAt, stoppedAt: stoppedAt, consistentAt: stop.at,
            serverVersion: source.serverVersion, systemIdentifier: try source.systemIdentifier,
            sizeBytes: allFiles.reduce(0) { $0 + $1.size },
            storedBytes: codec.isPlain ? nil : allFiles.reduce(0) { $0 + $1.storedChecksum.size },
            compression: codec.level == nil ? nil : "zstd", keyId: codec.key?.id, files: allFiles,
            backupLabel: stop.label, tablespaceMap: stop.tablespaceMap.isEmpty ? nil : stop.tablespaceMap)
        try FileOps.writeAtomically(try DRJSON.encode(info), to: work + "/" + BackupInfo.fileName)
        try FileOps.rename(work, repository.backups.path(id))
        logger.info("base backup complete", metadata: ["id": "\(id)", "bytes": "\(info.sizeBytes)", "stored_bytes": "\(info.storedBytes ?? info.sizeBytes)",
                                                       "seconds": "\(String(format: "%.2f", stoppedAt.timeIntervalSince(startedAt)))"])
        return Outcome(info: info, created: true)
    }

    /// Waits until the backup's last segment is in the repository: only then is it restorable.
    private func waitForArchive(_ segment: String, source: SourceDatabase, timeout: Double = 120) throws {
        let wal = repository.wal
        let deadline = Date().addingTimeInterval(timeout)
        while wal.existingStoredPath(segment) == nil {
            try Interruption.check()
            guard Date() < deadline else {
                let failed = try? source.archiver()
                throw DRError.timedOut("The WAL segment \(segment) that the backup needs was not archived into \(repository.root) within \(Int(timeout))s (last failed archive: \(failed?.lastFailed ?? "none")). Check archive_command and the server log; the backup was discarded.")
            }
            usleep(20_000)
        }
    }

    /// `weekly-2026-W48`: one per ISO week.
    static func weeklyID(_ date: Date) -> String { "weekly-" + ISOWeek.name(of: date) }

    /// `20261126T051100Z`; a second backup in the same second gets `-2`, `-3`, ...
    static func adhocID(_ date: Date, catalog: BackupCatalog) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let base = f.string(from: date)
        var id = base, n = 1
        while FileManager.default.fileExists(atPath: catalog.path(id)) { n += 1; id = "\(base)-\(n)" }
        return id
    }

    /// Copies the listed files on `jobs` threads, largest first; files dropped meanwhile are skipped.
    private func copyFiles(from dataDirectory: String, to destination: String, id: String, codec: StorageCodec) throws -> [BackupInfo.FileEntry] {
        let listing = try DataDirectoryWalker(root: dataDirectory).list()
        for dir in listing.directories { try FileOps.makeDirectory(destination + "/" + dir, mode: 0o700) }
        let files = listing.files.sorted { $0.size > $1.size }
        let results = ParallelMap<BackupInfo.FileEntry>(count: files.count, workers: settings.jobs)
        // Files reach the disk on the writeback thread while the copy threads go on; all of them
        // before backup.json is written.
        let writeback = Writeback()
        defer { try? writeback.wait() }
        try results.run { i -> BackupInfo.FileEntry? in
            let rel = files[i].path
            do {
                let written = try StoredFile.write(from: dataDirectory + "/" + rel, to: destination + "/" + rel + codec.suffix, codec: codec,
                                                   identity: BackupInfo.identity(backup: id, path: rel), sync: .background(writeback))
                return BackupInfo.FileEntry(path: rel, size: written.original.size, sha256: written.original.sha256, stored: written.form)
            } catch FileOps.CopyError.sourceVanished {
                return nil
            }
        }
        try writeback.wait()
        for dir in listing.directories { FileOps.syncDirectory(destination + "/" + dir) }
        return results.values.compactMap { $0 }
    }

    /// Debian-style clusters keep pg_hba.conf and pg_ident.conf in /etc: bring them along so a
    /// restored server can start. The main postgresql.conf is replaced by an empty one (the
    /// restore writes what it needs into postgresql.auto.conf).
    private func copyExternalConfig(source: SourceDatabase, dataDirectory: String, into destination: String,
                                    id: String, codec: StorageCodec) throws -> [BackupInfo.FileEntry] {
        var entries: [BackupInfo.FileEntry] = []
        let names = ["config_file": "postgresql.conf", "hba_file": "pg_hba.conf", "ident_file": "pg_ident.conf"]
        for (setting, path) in try source.configFiles() where !path.hasPrefix(dataDirectory + "/") {
            guard let name = names[setting] else { continue }
            var from = path
            if setting == "config_file" {
                from = destination + "/." + name + ".placeholder.tmp"
                try FileOps.writeAtomically(Data("# The source's postgresql.conf lived at \(path); dr restored without it.\n".utf8), to: from, mode: 0o600)
            }
            defer { if setting == "config_file" { unlink(from) } }
            if let written = try? StoredFile.write(from: from, to: destination + "/" + name + codec.suffix, codec: codec,
                                                   identity: BackupInfo.identity(backup: id, path: name)) {
                entries.append(.init(path: name, size: written.original.size, sha256: written.original.sha256, stored: written.form))
            }
        }
        return entries
    }
}

/// The backup label's fields we use.
struct BackupLabel {
    var timeline: UInt32?
    init(_ text: String) {
        for line in text.split(separator: "\n") where line.hasPrefix("START TIMELINE:") {
            timeline = UInt32(line.dropFirst("START TIMELINE:".count).trimmingCharacters(in: .whitespaces))
        }
    }
}

/// Runs `count` jobs on `workers` threads and keeps their results in order; the first error wins.
/// Threads of its own rather than Dispatch's pool, which runs no more at once than there are
/// cores: `jobs:` above the cores helps when the disks, not the CPUs, are the limit.
final class ParallelMap<T>: @unchecked Sendable {  // `lock` guards values, next and failure
    private let lock = NSLock()
    private(set) var values: [T?]
    private var next = 0
    private var failure: Error?
    let count: Int
    let workers: Int

    init(count: Int, workers: Int) {
        self.count = count
        self.workers = max(1, min(workers, count))
        values = Array(repeating: nil, count: count)
    }

    func run(_ job: @escaping @Sendable (Int) throws -> T?) throws {
        guard count > 0 else { return }
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                work(job)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        if let failure { throw failure }
    }

    private func work(_ job: (Int) throws -> T?) {
        while true {
            let i: Int? = lock.withLock {
                guard failure == nil, next < count else { return nil }
                defer { next += 1 }
                return next
            }
            guard let i else { return }
            do {
                try Interruption.check()
                let value = try job(i)
                lock.withLock { values[i] = value }
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
    }
}
