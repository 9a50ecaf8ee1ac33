import DRCore
@testable import DRVerify
import XCTest

/// The pieces that make a capture fast: the manifest reader and the dealing out of work.
final class CaptureSpeedTests: XCTestCase {
    private let server = ServerIdentity(target: "127.0.0.1:5432/app", database: "app", version: "15.10", systemIdentifier: nil)

    /// The shape-aware reader returns exactly what JSONDecoder does, names included.
    func testManifestReaderMatchesJSONDecoder() throws {
        let names = ["public.plain", "\"Odd Schema\".\"Mixed Case\"", "public.\"with \\\"quotes\\\" and \\\\\"",
                     "public.\"tab\there\"", "public.\"ünïcødé 表 🚀\"", "public.\"slash/ and <xml>\""]
        var objects: [String: [String: ObjectProperties]] = [:]
        for kind in ObjectKind.allCases { objects[kind.rawValue] = [:] }
        var rows: [String: Int64] = [:]
        for (i, name) in names.enumerated() {
            objects["table"]![name] = ["kind": "ordinary", "persistence": "permanent", "note": "line1\nline2\u{1}\u{7f}"]
            rows[name] = Int64(i) * 1_000_000_007
        }
        rows["public.big"] = Int64.max
        let manifest = Manifest(capturedAt: "2026-11-20T12:00:00Z", server: server, objects: objects, rowCounts: rows)
        let data = try manifest.jsonData()
        let fast = try XCTUnwrap(data.withUnsafeBytes { ManifestReader.read($0.bindMemory(to: UInt8.self)) })
        XCTAssertEqual(fast, try JSONDecoder().decode(Manifest.self, from: data))
        XCTAssertEqual(fast, manifest)
        XCTAssertEqual(try Manifest.decode(data), manifest)

        // Hand-written JSON: escapes, surrogate pairs, unknown keys, compact layout.
        let text = #"{"format":"dr-verify-manifest","version":1,"capturedAt":"x","extra":[1,{"a":null},true],"#
            + #""server":{"target":"t","database":"d","version":"v","systemIdentifier":null},"#
            + #""objects":{"table":{"a\u00e9\ud83d\ude80\/\b":{"k":"v"}}},"rowCounts":{"a":-5,"b":12}}"#
        let decoded = try XCTUnwrap(Data(text.utf8).withUnsafeBytes { ManifestReader.read($0.bindMemory(to: UInt8.self)) })
        XCTAssertEqual(decoded, try JSONDecoder().decode(Manifest.self, from: Data(text.utf8)))
    }

    /// Anything the reader does not understand is left to JSONDecoder (and its error wording).
    func testManifestReaderDeclinesWhatItDoesNotKnow() {
        let declined = [
            #"{"format":"dr-verify-manifest","version":1}"#,
            #"{"format":"dr-verify-manifest","version":1.0,"capturedAt":"x","server":{"target":"t","database":"d","version":"v"},"objects":{},"rowCounts":{}}"#,
            #"{"format":"dr-verify-manifest","version":1,"capturedAt":"x","server":{"target":"t","database":"d","version":"v"},"objects":{},"rowCounts":{"a":1.5}}"#,
            #"{"format":"dr-verify-manifest","version":1,"capturedAt":"x","server":{"target":"t","database":"d","version":"v"},"objects":{},"rowCounts":{}} trailing"#,
            #"{"format":"dr-verify-manifest","version":1,"capturedAt":"x","server":{"target":"t","database":"d","version":"v"},"objects":{"table":{"a":{"k":1}}},"rowCounts":{}}"#,
            "not json",
        ]
        for text in declined {
            XCTAssertNil(Data(text.utf8).withUnsafeBytes { ManifestReader.read($0.bindMemory(to: UInt8.self)) }, text)
        }
        var invalidUTF8 = Data(#"{"format":"dr-verify-manifest","version":1,"capturedAt":""#.utf8)
        invalidUTF8.append(contentsOf: [0xC3, 0x28])
        invalidUTF8.append(contentsOf: Data(#"","server":{"target":"t","database":"d","version":"v"},"objects":{},"rowCounts":{}}"#.utf8))
        XCTAssertNil(invalidUTF8.withUnsafeBytes { ManifestReader.read($0.bindMemory(to: UInt8.self)) })
    }

    /// Every relation goes to exactly one connection, the work is balanced, and each
    /// connection counts only its own tables.
    func testRelationsAreDealtOutOnceAndBalanced() {
        var relations: [ListedRelation] = []
        for i in 0..<1000 {
            let bytes: Int64 = i < 5 ? Int64(10 - i) << 20 : 8192
            relations.append(ListedRelation(oid: String(16384 + i),
                                            table: CountableTable(name: "s.t\(i)", schema: "s", table: "t\(i)", bytes: bytes),
                                            countable: i % 10 != 9))
        }
        let dealt = SnapshotWorkers.assign(relations, connections: 2, maxTables: 100)
        XCTAssertEqual(dealt.count, 2)
        var counted: [String] = [], listed: [String: [String]] = [:]
        for jobs in dealt {
            for job in jobs {
                switch job {
                case .count(let batch):
                    XCTAssertLessThanOrEqual(batch.count, 100)
                    counted += batch.map(\.name)
                case .catalogOf(let kind, let oids):
                    listed[kind.rawValue, default: []] += oids
                case .catalog:
                    XCTFail("shared catalog queries are not dealt out")
                }
            }
        }
        XCTAssertEqual(counted.sorted(), relations.filter(\.countable).map(\.table.name).sorted())
        for kind in CatalogQueries.relationBound {
            XCTAssertEqual(listed[kind.rawValue]?.sorted(), relations.map(\.oid).sorted(), kind.rawValue)
        }
        let loads = dealt.map { jobs in
            jobs.reduce(Int64(0)) { sum, job in
                if case .count(let batch) = job { return sum + batch.reduce(0) { $0 + $1.bytes } }
                return sum
            }
        }
        XCTAssertLessThan(abs(loads[0] - loads[1]), 11 << 20)
        XCTAssertEqual(SnapshotWorkers.assign(relations, connections: 5, maxTables: 100).count, 5)
        XCTAssertEqual(SnapshotWorkers.assign([], connections: 2, maxTables: 100).map(\.count), [0, 0])
    }

    /// Connections wait for jobs until the queue closes, then help the busiest one.
    func testJobQueueWaitsThenShares() {
        let queue = JobQueue(shared: [.catalog(.schema)], connections: 2)
        XCTAssertNotNil(queue.next(for: 1))
        let got = expectation(description: "a dealt job reaches the waiting connection")
        Thread.detachNewThread {
            if case .count(let batch)? = queue.next(for: 1), batch.first?.name == "b" { got.fulfill() }
        }
        Thread.sleep(forTimeInterval: 0.05)
        let t = { (name: String) in CaptureJob.count([CountableTable(name: name, schema: "s", table: name, bytes: 0)]) }
        queue.deal([[t("a1"), t("a2"), t("a3")], [t("b")]])
        wait(for: [got], timeout: 5)
        queue.close()
        // Connection 1 has nothing left: it takes connection 0's last job.
        if case .count(let batch)? = queue.next(for: 1) { XCTAssertEqual(batch.first?.name, "a3") } else { XCTFail() }
        if case .count(let batch)? = queue.next(for: 0) { XCTAssertEqual(batch.first?.name, "a1") } else { XCTFail() }
        // One job left: its owner takes it, the other stops.
        XCTAssertNil(queue.next(for: 1))
        XCTAssertNotNil(queue.next(for: 0))
        XCTAssertNil(queue.next(for: 0))
    }

    /// The leader keeps its snapshot's transaction open until every helper has joined it or
    /// given up (a helper joining an ended transaction gets "invalid snapshot identifier").
    func testLeaderWaitsForEveryHelperToJoin() {
        let handoff = SnapshotHandoff()
        let finished = NSCondition()
        nonisolated(unsafe) var leaderDone = false
        Thread.detachNewThread {
            handoff.waitForHelpers(2)
            finished.withLock { leaderDone = true; finished.broadcast() }
        }
        handoff.publish("snap")
        XCTAssertEqual(handoff.wait(), "snap")
        handoff.helperArrived()
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertFalse(finished.withLock { leaderDone })
        handoff.helperArrived()
        let deadline = Date().addingTimeInterval(5)
        finished.withLock { while !leaderDone, finished.wait(until: deadline) {} }
        XCTAssertTrue(finished.withLock { leaderDone })
        handoff.fail()
        XCTAssertNil(handoff.wait())
    }
}
