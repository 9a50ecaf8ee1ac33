import DRCore
import Foundation

/// A timeline switch as a `.history` file lists it: `parent` ended at `lsn`, where the next began.
struct TimelineSwitch: Codable, Equatable, Sendable {
    var parent: UInt32
    var lsn: String

    /// Parses a timeline history file (`1\t0/3000000\tno recovery target specified`).
    static func parse(_ text: String) -> [TimelineSwitch] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, !line.hasPrefix("#"), let tli = UInt32(fields[0]), LSN.parse(String(fields[1])) != nil else { return nil }
            return TimelineSwitch(parent: tli, lsn: String(fields[1]))
        }
    }
}

/// What an archive holds, as the window needs it: file names, their records, and the timeline
/// switches each `.history` file lists.
struct ArchiveContents {
    let names: Set<String>
    let record: (String) -> WalArchive.Record?
    let histories: [UInt32: [TimelineSwitch]]

    init(names: Set<String>, record: @escaping (String) -> WalArchive.Record?, histories: [UInt32: [TimelineSwitch]]) {
        self.names = names
        self.record = record
        self.histories = histories
    }

    /// Reads the archive: the listing, the records (on demand, each once), and the history files
    /// (from their records, or from the file itself when it is stored as it is).
    init(_ wal: WalArchive) {
        let files = wal.files()
        let cache = RecordCache(wal)
        var histories: [UInt32: [TimelineSwitch]] = [:]
        for file in files where file.kind == .history {
            guard let record = cache.get(file.text) else { continue }
            if let switches = record.timelineSwitches {
                histories[file.timeline] = switches
            } else if record.stored == nil, let data = FileManager.default.contents(atPath: wal.storedPath(file.text, record)) {
                histories[file.timeline] = TimelineSwitch.parse(String(decoding: data, as: UTF8.self))
            }
        }
        self.init(names: Set(files.map(\.text)), record: cache.get, histories: histories)
    }

    private final class RecordCache {
        let wal: WalArchive
        var records: [String: WalArchive.Record?] = [:]
        init(_ wal: WalArchive) { self.wal = wal }
        func get(_ name: String) -> WalArchive.Record? {
            if let known = records[name] { return known }
            let loaded = try? wal.record(name)
            records[name] = loaded
            return loaded
        }
    }
}

/// What a repository can restore, computed from what its archive truly holds: for each backup,
/// from the moment it is consistent to the end of the WAL reachable from its start without a gap,
/// following the timeline history the way recovery will. This one computation serves `dr status`,
/// `dr restore` (which backup, which WAL, which timeline) and the read-only plan callers.
///
/// - The earliest time of a backup is when it became consistent: the server's clock after
///   pg_backup_stop, bounded by when its own stop segment was completed (the server switches
///   segments inside pg_backup_stop) and, for backups from before dr kept that time, by when its
///   `.backup` history file and stop segment were archived.
/// - The latest time of a chain is when the server finished writing its last segment (the file's
///   modification time at push; the archive time in records from before it was kept).
/// - A chain follows the newest timeline whose history descends from the backup's after the
///   backup's end, and takes, for each segment, the newest timeline that has begun by then. A
///   segment missing ends the chain; where the old timeline's last segment is only in the
///   archive as `.partial` (a promoted server archived it so), the chain ends with that file,
///   which holds the old timeline's WAL up to the switch.
struct RestoreWindows {
    struct Link: Equatable {
        /// The file recovery asks for.
        var name: WalFileName
        /// The archived file that holds it (the same name, or its `.partial`).
        var archived: String
        var endedAt: Date
    }

    struct Span {
        var backup: BackupInfo
        var window: TimeWindow
        /// The timeline recovery follows (recovery_target_timeline).
        var timeline: UInt32
        /// Segments from the backup's start to the end of its unbroken chain.
        var links: [Link]
        /// The history files of `timeline` and its ancestors that the archive holds.
        var historyFiles: [String]
    }

    let spans: [Span]

    init(backups: [BackupInfo], wal: WalArchive) {
        self.init(backups: backups, archive: ArchiveContents(wal))
    }

    init(backups: [BackupInfo], archive: ArchiveContents) {
        spans = backups.compactMap { Self.span(for: $0, archive) }
    }

    /// A timeline's ranges: (timeline, first LSN, end LSN or nil for the open end), oldest first.
    static func ranges(of timeline: UInt32, histories: [UInt32: [TimelineSwitch]]) -> [(tli: UInt32, begin: UInt64, end: UInt64?)] {
        var out: [(UInt32, UInt64, UInt64?)] = []
        var begin: UInt64 = 0
        for s in histories[timeline] ?? [] {
            guard let lsn = LSN.parse(s.lsn) else { continue }
            out.append((s.parent, begin, lsn))
            begin = lsn
        }
        out.append((timeline, begin, nil))
        return out
    }

    /// The timeline recovery of `backup` follows: the newest one whose history holds the backup's
    /// timeline past the backup's end (or the backup's own).
    static func targetTimeline(for backup: BackupInfo, histories: [UInt32: [TimelineSwitch]]) -> UInt32 {
        let stop = LSN.parse(backup.stopLsn) ?? 0
        let descendants = histories.keys.filter { tli in
            tli > backup.timeline && ranges(of: tli, histories: histories).contains { $0.tli == backup.timeline && ($0.end ?? .max) >= stop }
        }
        return descendants.max() ?? backup.timeline
    }

    static func span(for backup: BackupInfo, _ archive: ArchiveContents) -> Span? {
        let size = backup.segmentSize
        guard let start = WalFileName(backup.startWal), let stopName = WalFileName(backup.stopWal) else { return nil }
        let stopOrdinal = stopName.ordinal(segmentSize: size)
        let timeline = targetTimeline(for: backup, histories: archive.histories)
        let ranges = ranges(of: timeline, histories: archive.histories).map { r in
            (tli: r.tli, first: r.begin / size, last: r.end.map { max($0, 1) - 1 }.map { $0 / size })
        }
        var links: [Link] = []
        var ordinal = start.ordinal(segmentSize: size)
        while let range = ranges.last(where: { $0.first <= ordinal }) {
            let name = WalFileName.make(number: ordinal, timeline: range.tli, segmentSize: size)
            if archive.names.contains(name.text), let record = archive.record(name.text) {
                links.append(Link(name: name, archived: name.text, endedAt: record.endedAt))
                ordinal += 1
                continue
            }
            // The old timeline's last segment, archived as .partial by the server that was promoted.
            if let older = ranges.last(where: { $0.first <= ordinal && $0.tli != range.tli && $0.last == ordinal }) {
                let old = WalFileName.make(number: ordinal, timeline: older.tli, segmentSize: size)
                let partial = old.text + ".partial"
                if archive.names.contains(partial), let record = archive.record(partial) {
                    links.append(Link(name: old, archived: partial, endedAt: record.endedAt))
                }
            }
            break
        }
        // Usable only when every segment up to the backup's stop segment is there.
        guard let last = links.last, last.name.ordinal(segmentSize: size) >= stopOrdinal,
              let stopLink = links.first(where: { $0.name.ordinal(segmentSize: size) == stopOrdinal }) else { return nil }
        var earliest = [backup.consistentAt ?? backup.stoppedAt, stopLink.endedAt]
        if backup.consistentAt == nil, let lsn = LSN.parse(backup.startLsn) {
            // Before dr kept the consistent time: the backup history file was archived right after the stop.
            let label = backup.startWal + String(format: ".%08X.backup", UInt32(lsn % size))
            if archive.names.contains(label), let record = archive.record(label) { earliest.append(record.archivedAt) }
        }
        let from = earliest.min()!
        let history = ranges.map(\.tli).filter { $0 > 1 }.map { String(format: "%08X.history", $0) }.filter(archive.names.contains)
        return Span(backup: backup, window: TimeWindow(earliest: from, latest: max(last.endedAt, from)),
                    timeline: timeline, links: links, historyFiles: history)
    }

    /// The windows merged where they overlap or touch, oldest first.
    var merged: [TimeWindow] {
        var out: [TimeWindow] = []
        for w in spans.map(\.window).sorted(by: { $0.earliest < $1.earliest }) {
            if let last = out.last, w.earliest <= last.latest {
                out[out.count - 1].latest = max(last.latest, w.latest)
            } else {
                out.append(w)
            }
        }
        return out
    }

    var latest: Date? { spans.map(\.window.latest).max() }

    var text: String {
        let m = merged
        return m.isEmpty ? "nothing is restorable yet" : m.map(\.description).joined(separator: ", and ")
    }

    /// The newest backup whose window holds `time`, or bad input naming the windows.
    func choose(for time: Date, repository: String) throws -> Span {
        if let span = spans.filter({ $0.window.contains(time) }).max(by: { $0.backup.stoppedAt < $1.backup.stoppedAt }) {
            return span
        }
        throw DRError(.outsideWindow, "\(RFC3339.format(time, fractional: true)) (\(param: .time)) is outside the restorable window of \(repository): \(text). Choose a time inside it (a time before the first backup finished, or after the last archived WAL, cannot be restored). Nothing was changed.")
    }

    func chooseLatest(repository: String) throws -> Span {
        guard let span = spans.max(by: { ($0.window.latest, $0.backup.stoppedAt) < ($1.window.latest, $1.backup.stoppedAt) }) else {
            throw DRError(.notRestorable, "\(repository) holds no complete base backup with its WAL, so nothing is restorable yet. Run `dr snapshot TARGET` first. Nothing was changed.")
        }
        return span
    }
}
