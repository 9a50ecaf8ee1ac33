import DRCore
import Foundation

/// What a repository can restore: for each backup, from its stop time to the archive time of the
/// last WAL segment reachable from its start without a gap. A missing segment ends the window.
struct RestoreWindows {
    struct Span {
        var backup: BackupInfo
        var window: TimeWindow
        /// Segments from the backup's start to the end of its unbroken chain.
        var segments: [WalFileName]
    }

    let spans: [Span]

    init(backups: [BackupInfo], wal: WalArchive) {
        let files = wal.files().filter { $0.kind == .segment }
        let byName = Set(files.map(\.text))
        spans = backups.compactMap { backup in
            var chain: [WalFileName] = []
            var ordinal = WalFileName(backup.startWal)!.ordinal(segmentSize: backup.segmentSize)
            while true {
                let name = WalFileName.make(number: ordinal, timeline: backup.timeline, segmentSize: backup.segmentSize)
                guard byName.contains(name.text) else { break }
                chain.append(name)
                ordinal += 1
            }
            // Usable only when every segment up to the backup's stop segment is there.
            guard let last = chain.last, last.text >= backup.stopWal, let record = try? wal.record(last.text) else { return nil }
            return Span(backup: backup, window: TimeWindow(earliest: backup.stoppedAt, latest: max(record.archivedAt, backup.stoppedAt)), segments: chain)
        }
    }

    /// The windows merged where they overlap, oldest first.
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
        throw DRError.badInput("\(RFC3339.format(time, fractional: true)) is outside the restorable window of \(repository): \(text). Choose a time inside it (a time before the first backup finished, or after the last archived WAL, cannot be restored). Nothing was changed.")
    }

    func chooseLatest(repository: String) throws -> Span {
        guard let span = spans.max(by: { ($0.window.latest, $0.backup.stoppedAt) < ($1.window.latest, $1.backup.stoppedAt) }) else {
            throw DRError.badInput("\(repository) holds no complete base backup with its WAL, so nothing is restorable yet. Run `dr snapshot TARGET` first. Nothing was changed.")
        }
        return span
    }
}
