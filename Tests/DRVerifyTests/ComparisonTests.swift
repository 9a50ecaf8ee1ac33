import DRCore
@testable import DRVerify
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The comparison rules, tolerance parsing, manifest format checks and renderers: pure, no I/O.
final class ComparisonTests: XCTestCase {
    private let server = ServerIdentity(target: "127.0.0.1:5432/app", database: "app", version: "15.10", systemIdentifier: "1")

    private func manifest(rows: [String: Int64], tables: [String: ObjectProperties] = [:],
                          sequences: [String: ObjectProperties] = [:]) -> Manifest {
        var tableObjects = tables
        for name in rows.keys where tableObjects[name] == nil { tableObjects[name] = ["kind": "ordinary", "persistence": "permanent"] }
        return Manifest(capturedAt: "2026-11-20T12:00:00Z", server: server,
                        objects: ["table": tableObjects, "sequence": sequences], rowCounts: rows)
    }

    func testRowTolerances() {
        let want = manifest(rows: ["t": 100])
        let more = manifest(rows: ["t": 104]), fewer = manifest(rows: ["t": 96])
        XCTAssertFalse(Comparison(expected: want, found: more, rows: .exact).passed)
        XCTAssertTrue(Comparison(expected: want, found: want, rows: .exact).findings.isEmpty)
        XCTAssertTrue(Comparison(expected: want, found: more, rows: .atLeast).passed)
        XCTAssertFalse(Comparison(expected: want, found: fewer, rows: .atLeast).passed)
        XCTAssertTrue(Comparison(expected: want, found: fewer, rows: .within(percent: 5)).passed)
        XCTAssertFalse(Comparison(expected: want, found: fewer, rows: .within(percent: 3)).passed)
        let accepted = Comparison(expected: want, found: fewer, rows: .within(percent: 5)).findings
        XCTAssertEqual(accepted.first?.accepted, "--rows within=5%: differs by 4%")
        XCTAssertFalse(Comparison(expected: manifest(rows: ["t": 0]), found: manifest(rows: ["t": 1]), rows: .within(percent: 50)).passed)
    }

    func testRowToleranceParsing() throws {
        XCTAssertEqual(try RowTolerance(parsing: "exact"), .exact)
        XCTAssertEqual(try RowTolerance(parsing: "at-least"), .atLeast)
        XCTAssertEqual(try RowTolerance(parsing: "within=5"), .within(percent: 5))
        XCTAssertEqual(try RowTolerance(parsing: "within=2.5%"), .within(percent: 2.5))
        for bad in ["", "within=", "within=-1", "within=x", "most"] {
            XCTAssertThrowsError(try RowTolerance(parsing: bad)) { XCTAssertEqual(($0 as? DRError)?.category, .badInput) }
        }
    }

    func testUnloggedTableFoundEmptyIsAcceptedButNotOtherwise() {
        let unlogged: ObjectProperties = ["kind": "ordinary", "persistence": "unlogged"]
        let want = manifest(rows: ["cache": 50], tables: ["cache": unlogged])
        let empty = manifest(rows: ["cache": 0], tables: ["cache": unlogged])
        let half = manifest(rows: ["cache": 25], tables: ["cache": unlogged])
        let c = Comparison(expected: want, found: empty, rows: .exact)
        XCTAssertTrue(c.passed)
        XCTAssertEqual(c.findings.map(\.difference), [.expectedEmpty])
        XCTAssertFalse(Comparison(expected: want, found: half, rows: .exact).passed)
    }

    func testSequenceAheadPassesAndBehindFails() {
        let want = manifest(rows: [:], sequences: ["s": ["last_value": "100"]])
        // Ahead by no more than the 32 pre-logged values: passes (accepted, with the reason).
        let within = Comparison(expected: want, found: manifest(rows: [:], sequences: ["s": ["last_value": "132"]]), rows: .exact)
        XCTAssertTrue(within.passed)
        XCTAssertEqual(within.findings.map(\.difference), [.sequenceAhead])
        XCTAssertTrue(within.findings.first?.accepted?.contains("32") ?? false)
        // Further ahead: rows were added after the reference — a finding with rows exact, not otherwise.
        let ahead = manifest(rows: [:], sequences: ["s": ["last_value": "150"]])
        XCTAssertEqual(Comparison(expected: want, found: ahead, rows: .exact).failures.map(\.difference), [.sequenceAhead])
        XCTAssertTrue(Comparison(expected: want, found: ahead, rows: .atLeast).passed)
        XCTAssertTrue(Comparison(expected: want, found: ahead, rows: .within(percent: 5)).findings.isEmpty)
        let behind = Comparison(expected: want, found: manifest(rows: [:], sequences: ["s": ["last_value": "99"]]), rows: .exact)
        XCTAssertEqual(behind.findings.map(\.difference), [.sequenceBehind])
        let unused = Comparison(expected: want, found: manifest(rows: [:], sequences: ["s": [:]]), rows: .exact)
        XCTAssertEqual(unused.findings.first?.found, "never used")
        // The steps count in increments, in the sequence's direction.
        let descending = manifest(rows: [:], sequences: ["s": ["last_value": "-100", "increment": "-10"]])
        let tenBelow = manifest(rows: [:], sequences: ["s": ["last_value": "-400", "increment": "-10"]])
        XCTAssertTrue(Comparison(expected: descending, found: tenBelow, rows: .exact).passed)
        let above = manifest(rows: [:], sequences: ["s": ["last_value": "-90", "increment": "-10"]])
        XCTAssertEqual(Comparison(expected: descending, found: above, rows: .exact).failures.map(\.difference), [.sequenceBehind])
    }

    /// A physical restore resets an unlogged sequence (PostgreSQL 15 makes those of unlogged
    /// tables unlogged) as it empties an unlogged table: found never used, it is accepted with
    /// the reason, not "behind" — unless it feeds a permanent table, whose rows it would collide with.
    func testAnUnloggedSequenceFoundResetIsAcceptedUnlessItsTableKeptItsRows() {
        let unloggedTable: ObjectProperties = ["kind": "ordinary", "persistence": "unlogged"]
        let permanentTable: ObjectProperties = ["kind": "ordinary", "persistence": "permanent"]
        let tables = ["public.\"Odd.Cache\"": unloggedTable, "public.orders": permanentTable]
        func sequences(_ seqs: [String: (persistence: String, ownedBy: String?, lastValue: String?)]) -> [String: ObjectProperties] {
            seqs.mapValues { s in
                var p: ObjectProperties = ["start": "1", "increment": "1", "persistence": s.persistence]
                p["owned_by"] = s.ownedBy
                p["last_value"] = s.lastValue
                return p
            }
        }
        let before = sequences([
            "public.\"Odd.Cache_id_seq\"": ("unlogged", "public.\"Odd.Cache\".id", "500"),
            "public.loose": ("unlogged", nil, "70"),
            "public.orders_id_seq": ("unlogged", "public.orders.id", "900"),
            "public.logged": ("permanent", nil, "40"),
        ])
        let after = sequences([
            "public.\"Odd.Cache_id_seq\"": ("unlogged", "public.\"Odd.Cache\".id", nil),
            "public.loose": ("unlogged", nil, nil),
            "public.orders_id_seq": ("unlogged", "public.orders.id", nil),
            "public.logged": ("permanent", nil, nil),
        ])
        let rows: [String: Int64] = ["public.\"Odd.Cache\"": 500, "public.orders": 900]
        let c = Comparison(expected: manifest(rows: rows, tables: tables, sequences: before),
                           found: manifest(rows: ["public.\"Odd.Cache\"": 0, "public.orders": 900], tables: tables, sequences: after),
                           rows: .exact)
        let byName = Dictionary(uniqueKeysWithValues: c.findings.filter { $0.kind == .sequence }.map { ($0.name, $0) })
        let ofTable = byName["public.\"Odd.Cache_id_seq\""]
        XCTAssertEqual(ofTable?.difference, .sequenceReset)
        XCTAssertTrue(ofTable?.accepted?.contains("unlogged table public.\"Odd.Cache\"") ?? false, "\(String(describing: ofTable))")
        XCTAssertEqual(byName["public.loose"]?.difference, .sequenceReset)
        XCTAssertNotNil(byName["public.loose"]?.accepted)
        // Unlogged but feeding a permanent table that kept its 900 rows: a finding, said why.
        let orders = byName["public.orders_id_seq"]
        XCTAssertEqual(orders?.difference, .sequenceReset)
        XCTAssertNil(orders?.accepted)
        XCTAssertTrue(orders?.detail?.contains("permanent table public.orders") ?? false)
        // A logged sequence found never used is behind, as before.
        XCTAssertEqual(byName["public.logged"]?.difference, .sequenceBehind)
        XCTAssertEqual(Set(c.failures.map(\.name)), ["public.orders_id_seq", "public.logged"])
        // A sequence of an unlogged table found behind but used is still behind (not the reset state).
        var used = after
        used["public.\"Odd.Cache_id_seq\""]?["last_value"] = "3"
        let refilled = Comparison(expected: manifest(rows: [:], tables: tables, sequences: before),
                                  found: manifest(rows: [:], tables: tables, sequences: used), rows: .exact)
        XCTAssertTrue(refilled.failures.contains { $0.name == "public.\"Odd.Cache_id_seq\"" && $0.difference == .sequenceBehind })
        XCTAssertEqual(SequenceRule.ownerTable("\"Odd Schema\".\"My \"\"Quoted\"\" Table\".id"), "\"Odd Schema\".\"My \"\"Quoted\"\" Table\"")
        XCTAssertEqual(SequenceRule.ownerTable("public.t.\"a.b\""), "public.t")
    }

    func testForeignAndIncompatibleManifestsAreBadInput() throws {
        let cases: [(String, String)] = [
            ("not json at all", "not a JSON object"),
            (#"{"name": "package.json"}"#, "not a dr verify manifest"),
            (#"[1, 2]"#, "not a JSON object"),
            (#"{"format": "dr-verify-manifest", "version": 99}"#, "format 99"),
            (#"{"format": "dr-verify-manifest", "version": 1}"#, "damaged"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Manifest.decode(Data(text.utf8), source: "m.json")) { error in
                let e = error as? DRError
                XCTAssertEqual(e?.category, .badInput)
                XCTAssertTrue(e?.message.contains(expected) ?? false, "\(text): \(e?.message ?? "\(error)")")
            }
        }
        XCTAssertThrowsError(try Manifest.read(from: URL(fileURLWithPath: "/nonexistent/m.json"))) { error in
            XCTAssertTrue((error as? DRError)?.message.contains("no such file") ?? false, "\(error)")
        }
    }

    func testManifestJSONIsSortedAndStable() throws {
        let m = manifest(rows: ["b": 2, "a": 1])
        let text = String(decoding: try m.jsonData(), as: UTF8.self)
        XCTAssertLessThan(text.range(of: "\"captured_at\"")!.lowerBound, text.range(of: "\"format\"")!.lowerBound)
        XCTAssertLessThan(text.range(of: "\"a\" : 1")!.lowerBound, text.range(of: "\"b\" : 2")!.lowerBound)
        XCTAssertEqual(try m.jsonData(), try Manifest.decode(m.jsonData()).jsonData())
    }

    func testBatchesKeepBigTablesApartAndGroupSmallOnes() {
        let tables = (0..<600).map {
            ListedRelation(oid: String($0), table: CountableTable(name: "t\($0)", schema: "s", table: "t\($0)", bytes: $0 < 2 ? 100 << 20 : 8192), kind: "r")
        }
        let batches = SnapshotWorkers.batches(tables, maxTables: 250, maxLocks: 1000)
        XCTAssertEqual(batches.count, 2 + 3)
        XCTAssertEqual(batches[0].tables.count, 1)
        XCTAssertEqual(Set(batches.flatMap { $0.tables.map(\.table.name) }).count, 600)
    }

    func testRenderersProduceParseableDocuments() throws {
        let want = manifest(rows: ["public.\"a<b>\"": 3])
        let comparison = Comparison(expected: want, found: manifest(rows: ["public.\"a<b>\"": 2]), rows: .exact)
        let report = VerificationReport(
            reference: ReferenceSummary(kind: "manifest", server: server, capturedAt: want.capturedAt), target: server,
            startedAt: "2026-11-20T12:00:00Z", durationSeconds: 0.5, rows: "exact",
            summary: .init(objectsChecked: 1, tablesCounted: 1, rowsCounted: 2, failures: 1, accepted: 0),
            findings: comparison.findings, checked: comparison.checked)
        let json = try JSONSerialization.jsonObject(with: Data(try ReportRenderer.json(report).utf8)) as? [String: Any]
        XCTAssertEqual(json?["passed"] as? Bool, false)
        XCTAssertEqual((json?["findings"] as? [[String: Any]])?.first?["found"] as? String, "2")
        let junit = ReportRenderer.junit(report)
        let parser = XMLParser(data: Data(junit.utf8))
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "") \(junit)")
        XCTAssertTrue(junit.contains("failures=\"1\""), junit)
        XCTAssertTrue(junit.contains("name=\"public.&quot;a&lt;b&gt;&quot;\""), junit)
        XCTAssertTrue(ReportRenderer.text(report).contains("FAIL: 1 difference"))
    }
}
