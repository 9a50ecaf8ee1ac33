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
        XCTAssertEqual(fast, try DRJSON.decode(Manifest.self, from: data))
        XCTAssertEqual(fast, manifest)
        XCTAssertEqual(try Manifest.decode(data), manifest)

        // Hand-written JSON: escapes, surrogate pairs, unknown keys, compact layout.
        let text = #"{"format":"dr-verify-manifest","version":1,"capturedAt":"x","extra":[1,{"a":null},true],"#
            + #""server":{"target":"t","database":"d","version":"v","systemIdentifier":null},"#
            + #""objects":{"table":{"a\u00e9\ud83d\ude80\/\b":{"k":"v"}}},"rowCounts":{"a":-5,"b":12}}"#
        let decoded = try XCTUnwrap(Data(text.utf8).withUnsafeBytes { ManifestReader.read($0.bindMemory(to: UInt8.self)) })
        XCTAssertEqual(decoded, try JSONDecoder().decode(Manifest.self, from: Data(text.utf8)))
    }

    /// The streaming writer writes exactly what DRJSON writes: every escape, empty objects and
    /// lists, optional members left out, the contents block.
    func testManifestWriterWritesWhatDRJSONWrites() throws {
        let names = ["public.plain", "\"Odd Schema\".\"Mixed Case\"", "public.\"with \\\"quotes\\\" and \\\\\"",
                     "public.\"tab\there\"", "public.\"ünïcødé 表 🚀\"", "public.\"slash/ and <xml>\"", "public.B", "public.a10", "public.a9"]
        var objects: [String: [String: ObjectProperties]] = [:]
        for kind in ObjectKind.allCases { objects[kind.rawValue] = [:] }
        var rows: [String: Int64] = [:], checksums: [String: ContentChecksum] = [:]
        for (i, name) in names.enumerated() {
            objects["table"]![name] = ["kind": "ordinary", "persistence": "permanent", "note": "line1\nline2\u{1}\u{7f}\u{8}\u{c}\r\t\u{1f}",
                                       "acl": "PUBLIC: SELECT; \"Odd\": UPDATE WITH GRANT OPTION", "row_security": "enabled, forced"]
            rows[name] = Int64(i) * 1_000_000_007 - 3
            checksums[name] = String(-Int64(i) * 987_654_321_987)
        }
        objects["role"]!["postgres"] = [:]
        for sysid in ["7301234567890123456", nil] {
            for contents in [Manifest.Contents(checksums: checksums, excluded: ["public.b", "public.a"]), Manifest.Contents(checksums: [:], excluded: []), nil] {
                let server = ServerIdentity(target: "127.0.0.1:5432/app", database: "app", version: "15.10", systemIdentifier: sysid)
                let m = Manifest(capturedAt: "2026-11-20T12:00:00Z", server: server, objects: objects, rowCounts: rows, contents: contents)
                XCTAssertEqual(String(decoding: try m.jsonData(), as: UTF8.self), String(decoding: try DRJSON.encode(m), as: UTF8.self))
                XCTAssertEqual(try Manifest.decode(m.jsonData()), m)
            }
        }
        let empty = Manifest(capturedAt: "x", server: server, objects: [:], rowCounts: [:])
        XCTAssertEqual(try empty.jsonData(), try DRJSON.encode(empty))
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
    /// connection counts only its own tables; sequences are read in the batches.
    func testRelationsAreDealtOutOnceAndBalanced() {
        var relations: [ListedRelation] = []
        for i in 0..<1000 {
            let bytes: Int64 = i < 5 ? Int64(10 - i) << 20 : 8192
            relations.append(ListedRelation(oid: String(16384 + i),
                                            table: CountableTable(name: "s.t\(i)", schema: "s", table: "t\(i)", bytes: bytes),
                                            kind: i % 10 == 9 ? "v" : i % 10 == 8 ? "S" : "r", indexes: 1))
        }
        let dealt = SnapshotWorkers.assign(relations, workers: 2, maxTables: 100, maxLocks: 256)
        XCTAssertEqual(dealt.count, 2)
        var counted: [String] = [], sequences: [String] = [], listed: [String: [String]] = [:]
        for jobs in dealt {
            for job in jobs {
                switch job {
                case .batch(let batch):
                    XCTAssertLessThanOrEqual(batch.tables.count, 100)
                    XCTAssertLessThanOrEqual(batch.tables.reduce(0) { $0 + $1.locks } + batch.sequences.count, 256)
                    counted += batch.tables.map(\.table.name)
                    sequences += batch.sequences
                case .catalogOf(let kind, let oids):
                    listed[kind.rawValue, default: []] += oids
                case .catalog:
                    XCTFail("shared catalog queries are not dealt out")
                }
            }
        }
        XCTAssertEqual(counted.sorted(), relations.filter(\.countable).map(\.table.name).sorted())
        XCTAssertEqual(sequences.sorted(), relations.filter(\.isSequence).map(\.oid).sorted())
        for kind in CatalogQueries.relationBound {
            XCTAssertEqual(listed[kind.rawValue]?.sorted(), relations.filter { !$0.isSequence }.map(\.oid).sorted(), kind.rawValue)
        }
        let loads = dealt.map { jobs in
            jobs.reduce(Int64(0)) { sum, job in
                if case .batch(let batch) = job { return sum + batch.tables.reduce(0) { $0 + $1.table.bytes } }
                return sum
            }
        }
        XCTAssertLessThan(abs(loads[0] - loads[1]), 11 << 20)
        XCTAssertEqual(SnapshotWorkers.assign(relations, workers: 5, maxTables: 100, maxLocks: 256).count, 5)
        XCTAssertEqual(SnapshotWorkers.assign([], workers: 2, maxTables: 100, maxLocks: 256).map(\.count), [0, 0])
    }

    /// A table with more work than a worker's even share is counted with parallel workers;
    /// the others are not.
    func testOnlyATableTooBigToShareOutGetsParallelWorkers() {
        var relations = [ListedRelation(oid: "1", table: CountableTable(name: "s.big", schema: "s", table: "big", bytes: 2 << 30), kind: "r")]
        for i in 0..<50 {
            relations.append(ListedRelation(oid: String(100 + i), table: CountableTable(name: "s.t\(i)", schema: "s", table: "t\(i)", bytes: 1 << 20), kind: "r"))
        }
        var parallel: [String] = [], serial = 0
        for job in SnapshotWorkers.assign(relations, workers: 2, maxTables: 100, maxLocks: 256).joined() {
            guard case .batch(let batch) = job else { continue }
            if batch.parallel { parallel += batch.tables.map(\.table.name) } else { serial += batch.tables.count }
        }
        XCTAssertEqual(parallel, ["s.big"])
        XCTAssertEqual(serial, 50)
        // With one worker there is nothing to share: the session keeps the server's setting.
        let one = SnapshotWorkers.assign(relations, workers: 1, maxTables: 100, maxLocks: 256).joined()
        XCTAssertFalse(one.contains { if case .batch(let b) = $0 { return b.parallel } else { return false } })
    }

    /// Connections wait for jobs until the queue closes, then help the busiest one; the leader
    /// (connection 0) takes only jobs that lock nothing.
    func testJobQueueWaitsThenShares() {
        let queue = JobQueue(shared: [.catalog(.schema)], connections: 3)
        XCTAssertNotNil(queue.next(for: 2, lockFree: false))
        let got = expectation(description: "a dealt job reaches the waiting connection")
        Thread.detachNewThread {
            if case .batch(let batch)? = queue.next(for: 2, lockFree: false), batch.tables.first?.table.name == "b" { got.fulfill() }
        }
        Thread.sleep(forTimeInterval: 0.05)
        let t = { (name: String) in
            CaptureJob.batch(Batch(tables: [ListedRelation(oid: name, table: CountableTable(name: name, schema: "s", table: name, bytes: 0), kind: "r")]))
        }
        queue.deal([[], [t("a1"), t("a2"), t("a3"), .catalogOf(.index, relations: ["a"])], [t("b")]])
        wait(for: [got], timeout: 5)
        queue.close()
        // The leader takes the lock-free job only, from the far end of connection 1's list.
        if case .catalogOf? = queue.next(for: 0, lockFree: true) {} else { XCTFail("the leader takes the catalog query") }
        XCTAssertNil(queue.next(for: 0, lockFree: true))
        // Connection 2 has nothing left: it takes connection 1's last job.
        if case .batch(let batch)? = queue.next(for: 2, lockFree: false) { XCTAssertEqual(batch.tables.first?.table.name, "a3") } else { XCTFail() }
        if case .batch(let batch)? = queue.next(for: 1, lockFree: false) { XCTAssertEqual(batch.tables.first?.table.name, "a1") } else { XCTFail() }
        // One job left: its owner takes it, the other stops.
        XCTAssertNil(queue.next(for: 2, lockFree: false))
        XCTAssertNotNil(queue.next(for: 1, lockFree: false))
        XCTAssertNil(queue.next(for: 1, lockFree: false))
    }

    /// The leader keeps its snapshot's transaction open until every worker is done with it
    /// (every batch imports it anew; importing it after the transaction ended fails with
    /// "invalid snapshot identifier").
    func testLeaderWaitsForEveryWorkerToFinish() {
        let handoff = SnapshotHandoff()
        let finished = NSCondition()
        nonisolated(unsafe) var leaderDone = false
        Thread.detachNewThread {
            handoff.waitForWorkers(2)
            finished.withLock { leaderDone = true; finished.broadcast() }
        }
        handoff.publish("snap")
        XCTAssertEqual(handoff.wait(), "snap")
        handoff.workerDone()
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertFalse(finished.withLock { leaderDone })
        handoff.workerDone()
        let deadline = Date().addingTimeInterval(5)
        finished.withLock { while !leaderDone, finished.wait(until: deadline) {} }
        XCTAssertTrue(finished.withLock { leaderDone })
        handoff.fail()
        XCTAssertNil(handoff.wait())
    }
}
