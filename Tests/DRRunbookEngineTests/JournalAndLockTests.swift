import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

final class JournalAndLockTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "dr-journal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    let header = RunHeader(runID: "r1", runbook: "/rb.yml", name: "rb", digest: "abc", startedAt: Date(timeIntervalSince1970: 1_795_176_000),
                           inputs: ["when": .time(Date(timeIntervalSince1970: 1_795_176_000)), "pw": .string(Redact.mask)],
                           secretInputs: ["pw"], targets: ["prod-db"])
    let entries = [
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_001), event: .started),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_002), event: .conditionEvaluated(step: 0, value: true), stepID: "a"),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_003), event: .stepStarted(step: 0, attempt: 1, reentry: false), stepID: "a", parameters: ["db": Redact.mask]),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_004.5), event: .stepFailed(step: 0, attempt: 1, failure: StepFailure(.timedOut, "slow")), stepID: "a"),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_005), event: .stepStarted(step: 0, attempt: 2, reentry: true), stepID: "a"),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_006), event: .stepSucceeded(step: 0, attempt: 2, outputs: ["n": .int(1), "d": .duration(60)]), stepID: "a"),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_007), event: .cancelRequested),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_008), event: .resumed),
        JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_009), event: .finished(.cancelled)),
    ]

    func testRoundTrip() throws {
        let path = dir + "/r1.jsonl"
        let journal = try Journal(path: path)
        try journal.append(header)
        for entry in entries { try journal.append(entry) }
        let (readHeader, readEntries) = try Journal.read(path: path)
        XCTAssertEqual(readHeader, header)
        XCTAssertEqual(readEntries, entries)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").count, entries.count + 1, "one line per event")
        XCTAssertTrue(text.contains("\"started_at\":\"2026-11-20T12:00:00"), text)
    }

    func testATruncatedLastLineIsToleratedAndRepairedBeforeAppending() throws {
        let path = dir + "/r1.jsonl"
        let journal = try Journal(path: path)
        try journal.append(header)
        try journal.append(entries[0])
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data("{\"at\":\"2026-11-20T12:00:03Z\",\"type\":\"step_sta".utf8))
        try handle.close()
        XCTAssertEqual(try Journal.read(path: path).entries, [entries[0]])
        // Reopening for a resume drops the partial line, so the next event starts its own line.
        try Journal(path: path).append(entries[1])
        XCTAssertEqual(try Journal.read(path: path).entries, [entries[0], entries[1]])
    }

    func testADamagedLineInTheMiddleIsBadInput() throws {
        let path = dir + "/r1.jsonl"
        try Journal(path: path).append(header)
        try Data("not json\n".utf8).append(to: path)
        try Journal(path: path).append(entries[0])
        XCTAssertThrowsError(try Journal.read(path: path)) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput)
            XCTAssertTrue("\(error)".contains("r1.jsonl:2:"), "\(error)")
        }
    }

    func testASecondHolderIsRefusedWithTheOwnerNamed() throws {
        let path = dir + "/t.lock"
        let owner = LockFile.Owner(pid: getpid(), startedAt: "2026-11-20T12:00:00Z", runID: "run r1")
        let first = try LockFile.acquire(path, owner: owner, what: "Target 'prod-db'")
        XCTAssertEqual(LockFile.holder(path), owner)
        XCTAssertThrowsError(try LockFile.acquire(path, owner: LockFile.Owner(pid: 1, startedAt: "x", runID: "r2"), what: "Target 'prod-db'")) { error in
            XCTAssertEqual((error as? DRError)?.message, "Target 'prod-db' is in use by run r1 (pid \(getpid()), since 2026-11-20T12:00:00Z). Wait for it to finish, or stop it; two dr commands may not change the same target at once. Nothing was changed.")
        }
        first.release()
        XCTAssertNil(LockFile.holder(path))
        XCTAssertNoThrow(try LockFile.acquire(path, owner: owner, what: "t"))
    }

    func testALockLeftByADeadProcessIsTakenOver() throws {
        let path = dir + "/t.lock"
        // What a crashed run leaves: the file naming a pid that is gone, and no kernel lock.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = LockFile.Owner(pid: child.processIdentifier, startedAt: "2026-11-20T12:00:00Z", runID: "crashed")
        try JSONEncoder().encode(dead).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(LockFile.holder(path), "nobody holds it")
        let owner = LockFile.Owner(pid: getpid(), startedAt: "2026-11-20T13:00:00Z", runID: "r2")
        let lock = try LockFile.acquire(path, owner: owner, what: "t")
        XCTAssertEqual(LockFile.holder(path), owner)
        lock.release()
    }
}

extension Data {
    func append(to path: String) throws {
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(self)
        try handle.close()
    }
}
