@testable import DRProcedures
import DRCore
import XCTest

/// The restorable window from what the archive holds, on fixed vectors (issue 11, item 1).
final class RestoreWindowTests: XCTestCase {
    let t0 = RFC3339.parse("2026-11-26T18:00:00Z")!
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func backup(_ id: String, start: String, stop: String, consistent: Double?, stopped: Double, timeline: UInt32 = 1) -> BackupInfo {
        let size: UInt64 = 16 << 20
        return BackupInfo(id: id, target: "t", kind: "adhoc", isoWeek: nil, startLsn: start, stopLsn: stop,
                          startWal: WalFileName.segment(containing: LSN.parse(start)!, timeline: timeline, segmentSize: size).text,
                          stopWal: WalFileName.segment(containing: LSN.parse(stop)! - 1, timeline: timeline, segmentSize: size).text,
                          timeline: timeline, segmentSize: size, startedAt: at(0), stoppedAt: at(stopped), consistentAt: consistent.map(at),
                          serverVersion: 150018, systemIdentifier: "1", sizeBytes: 1, storedBytes: nil, compression: nil, keyId: nil,
                          files: [], backupLabel: "", tablespaceMap: nil)
    }

    /// An archive of `files` (name → end time), records with archive time = end time + 0.05 s unless `legacy`.
    func archive(_ files: [String: Double], legacy: Set<String> = [], histories: [UInt32: [TimelineSwitch]] = [:]) -> ArchiveContents {
        ArchiveContents(names: Set(files.keys), record: { name in
            guard let end = files[name] else { return nil }
            let legacyFile = legacy.contains(name)
            return WalArchive.Record(sha256: "", size: 0, archivedAt: self.at(end + 0.05), writtenAt: legacyFile ? nil : self.at(end))
        }, histories: histories)
    }

    func seg(_ n: Int, tli: UInt32 = 1) -> String { String(format: "%08X%08X%08X", tli, 0, n) }

    func testABackupTakenMidSegmentIsRestorableFromItsOwnSegment() {
        // Started and stopped inside segment 2; pg_backup_stop switched to segment 3 before it returned.
        let b = backup("b1", start: "0/2000028", stop: "0/2000138", consistent: 1.000, stopped: 1.3)
        let windows = RestoreWindows(backups: [b], archive: archive([seg(2): 0.990]))
        XCTAssertEqual(windows.spans.count, 1)
        XCTAssertEqual(windows.merged, [TimeWindow(earliest: at(0.990), latest: at(0.990))],
                       "consistent no later than its own segment's end; never an inverted window")
        let later = RestoreWindows(backups: [b], archive: archive([seg(2): 0.990, seg(3): 60]))
        XCTAssertEqual(later.merged, [TimeWindow(earliest: at(0.990), latest: at(60))])
    }

    func testATimeBetweenTwoBackupsRightAfterTheSecondHasNoGap() throws {
        let b1 = backup("b1", start: "0/2000028", stop: "0/2000138", consistent: 1.0, stopped: 1.3)
        // The second: consistent at 100.20 by the server's clock, its segment ended at 100.15,
        // dr saw the segment archived (and called the backup stopped) at 100.30.
        let b2 = backup("b2", start: "0/5000028", stop: "0/5000100", consistent: 100.20, stopped: 100.30)
        let wal = archive([seg(2): 0.99, seg(3): 40, seg(4): 80, seg(5): 100.15])
        let windows = RestoreWindows(backups: [b1, b2], archive: wal)
        XCTAssertEqual(windows.merged, [TimeWindow(earliest: at(0.99), latest: at(100.15))], windows.text)
        XCTAssertEqual(try windows.choose(for: at(50), repository: "r").backup.id, "b1")
        XCTAssertEqual(try windows.choose(for: at(100.15), repository: "r").backup.id, "b2", "the newest backup that holds the time")
        XCTAssertEqual(try windows.chooseLatest(repository: "r").backup.id, "b2")
        XCTAssertThrowsError(try windows.choose(for: at(100.2), repository: "r")) { error in
            XCTAssertEqual((error as? DRError)?.code, .outsideWindow)
            XCTAssertTrue("\(error)".contains("2026-11-26T18:00:00.990Z to 2026-11-26T18:01:40.150Z"), "\(error)")
        }
    }

    func testBackupsFromBeforeTheConsistentTimeUseTheirBackupHistoryFile() {
        let b = backup("old", start: "0/2000028", stop: "0/2000138", consistent: nil, stopped: 1.3)
        var files = [seg(2): 1.15, seg(3): 30.0]
        let legacy = Set(files.keys)
        XCTAssertEqual(RestoreWindows(backups: [b], archive: archive(files, legacy: legacy)).merged.first?.earliest, at(1.2),
                       "without the end times: when its stop segment was archived")
        files["000000010000000000000002.00000028.backup"] = 1.0
        XCTAssertEqual(RestoreWindows(backups: [b], archive: archive(files, legacy: legacy)).merged.first?.earliest, at(1.05),
                       "the .backup file is archived right after the stop")
    }

    func testAMissingSegmentEndsTheChainAndShowsAsAGap() {
        let b1 = backup("b1", start: "0/2000028", stop: "0/2000138", consistent: 1.0, stopped: 1.3)
        let b2 = backup("b2", start: "0/5000028", stop: "0/5000100", consistent: 100.2, stopped: 100.3)
        let windows = RestoreWindows(backups: [b1, b2], archive: archive([seg(2): 0.99, seg(3): 40, seg(5): 100.15, seg(6): 200]))
        XCTAssertEqual(windows.merged, [TimeWindow(earliest: at(0.99), latest: at(40)), TimeWindow(earliest: at(100.15), latest: at(200))])
        XCTAssertEqual(RestoreWindows(backups: [b1], archive: archive([seg(3): 40])).spans.count, 0, "its own start segment is missing")
    }

    func testTheChainFollowsTheNewestTimelineFromItsSwitch() throws {
        // Timeline 2 branched from 1 at 0/4800000 (inside segment 4); the old primary kept writing timeline 1.
        let histories: [UInt32: [TimelineSwitch]] = [2: [TimelineSwitch(parent: 1, lsn: "0/4800000")]]
        let b = backup("b1", start: "0/2000028", stop: "0/2000138", consistent: 1.0, stopped: 1.3)
        var files = [seg(2): 0.99, seg(3): 40, seg(4): 90, seg(5): 95, seg(4, tli: 2): 70, seg(5, tli: 2): 120, "00000002.history": 60]
        var span = try XCTUnwrap(RestoreWindows(backups: [b], archive: archive(files, histories: histories)).spans.first)
        XCTAssertEqual(span.timeline, 2)
        XCTAssertEqual(span.links.map(\.archived), [seg(2), seg(3), seg(4, tli: 2), seg(5, tli: 2)])
        XCTAssertEqual(span.historyFiles, ["00000002.history"])
        XCTAssertEqual(span.window.latest, at(120))

        // Until timeline 2's first segment is archived, its WAL up to the switch is in the old one's .partial.
        files[seg(4, tli: 2)] = nil
        files[seg(5, tli: 2)] = nil
        files[seg(4)] = nil
        files[seg(4) + ".partial"] = 58
        span = try XCTUnwrap(RestoreWindows(backups: [b], archive: archive(files, histories: histories)).spans.first)
        XCTAssertEqual(span.links.last, RestoreWindows.Link(name: WalFileName(seg(4))!, archived: seg(4) + ".partial", endedAt: at(58)))
        XCTAssertEqual(span.window.latest, at(58))

        // A backup taken on the old timeline after the switch is not an ancestor of timeline 2: it stays on 1.
        let late = backup("late", start: "0/5000028", stop: "0/5000100", consistent: 96, stopped: 96.2)
        files[seg(5)] = 95.5
        let lateSpan = try XCTUnwrap(RestoreWindows(backups: [late], archive: archive(files, histories: histories)).spans.first)
        XCTAssertEqual(lateSpan.timeline, 1)
        XCTAssertEqual(lateSpan.links.map(\.archived), [seg(5)])
    }

    func testTimelineHistoryFilesParse() {
        XCTAssertEqual(TimelineSwitch.parse("1\t0/3000000\tno recovery target specified\n\n2\t0/5000060\tbefore 2026-11-26 18:00:00+00\n"),
                       [TimelineSwitch(parent: 1, lsn: "0/3000000"), TimelineSwitch(parent: 2, lsn: "0/5000060")])
    }
}
