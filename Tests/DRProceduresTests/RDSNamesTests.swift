import DRCore
@testable import DRProcedures
import XCTest

/// Every derived identifier fits what it becomes (issue 11 item 7), with fixed vectors.
final class RDSNamesTests: XCTestCase {
    let week = RFC3339.parse("2026-11-20T12:04:00Z")!

    func testNamesThatFitKeepTodaysForm() {
        XCTAssertEqual(RDSNames.weeklySnapshot(target: "prod-db", at: week, cluster: true), "dr-prod-db-weekly-2026-w47")
        XCTAssertEqual(RDSNames.adhocSnapshot(target: "prod-db", at: week, cluster: true), "dr-prod-db-20261120-120400")
        XCTAssertEqual(RDSNames.fitted("prod-db-pitr", tail: "-1", maxLength: 63), "prod-db-pitr-1")
        XCTAssertEqual(AuroraWriter.identifier(ofCluster: String(repeating: "a", count: 61)), String(repeating: "a", count: 61) + "-1")
        // Instance snapshots may be 255 long: a long target keeps today's name there.
        let long = "social-analytics-production-primary-aurora-db-eu-west"
        XCTAssertEqual(RDSNames.weeklySnapshot(target: long, at: week), "dr-\(long)-weekly-2026-w47")
    }

    func testLongNamesKeepTheirEndAndGetAStableHash() {
        let long = "social-analytics-production-primary-aurora-db-eu"   // 48: the weekly name would be 67
        let weekly = RDSNames.weeklySnapshot(target: long, at: week, cluster: true)
        XCTAssertEqual(weekly, "dr-social-analytics-production-primary-\(hash("dr-\(long)-weekly-2026-w47"))-weekly-2026-w47")
        XCTAssertEqual(weekly.count, 63)
        XCTAssertEqual(RDSNames.weeklySnapshot(target: long, at: week, cluster: true), weekly, "deterministic: a re-run finds it")
        XCTAssertNotEqual(RDSNames.weeklySnapshot(target: long + "-2", at: week, cluster: true), weekly, "two long names never meet")
        let adhoc = RDSNames.adhocSnapshot(target: long, at: week, cluster: true)
        XCTAssertLessThanOrEqual(adhoc.count, 63)
        XCTAssertTrue(adhoc.hasSuffix("-20261120-120400"), adhoc)
        let writer = AuroraWriter.identifier(ofCluster: String(repeating: "b", count: 63))
        XCTAssertEqual(writer.count, 63)
        XCTAssertTrue(writer.hasSuffix("-1"), writer)
        let copy = RDSNames.copyName(of: "rds:" + String(repeating: "c", count: 70), cluster: true)
        XCTAssertEqual(copy.count, 63)
        XCTAssertTrue(copy.hasPrefix("dr-copy-ccc"), copy)
        for name in [weekly, adhoc, writer, copy] {
            XCTAssertNoThrow(try RDSNames.checkInstanceIdentifier(name, parameter: .name), name)
        }
        // No double hyphen where the cut falls on one.
        XCTAssertEqual(RDSNames.fitted("abcd-efghijklmnop", tail: "-tail", maxLength: 19), "abcd-\(hash("abcd-efghijklmnop-tail"))-tail")
    }

    func testClusterSnapshotIdentifiersAreCheckedAgainst63() {
        let id = "dr-" + String(repeating: "s", count: 70)
        XCTAssertNoThrow(try RDSNames.checkSnapshotIdentifier(id, parameter: .snapshot))
        XCTAssertThrowsError(try RDSNames.checkSnapshotIdentifier(id, parameter: .snapshot, cluster: true)) { error in
            XCTAssertTrue("\(error)".contains("a DB cluster snapshot identifier AWS would accept: it must be 1 to 63 characters long"), "\(error)")
        }
    }

    func testTheFailoverCommentFitsRoute53() {
        XCTAssertEqual(Route53Failover.comment(record: "db.example.com.", to: "x.example.com"), "dr failover: db.example.com. -> x.example.com")
        let record = String(repeating: "r", count: 63) + "." + String(repeating: "s", count: 63) + "." + String(repeating: "t", count: 63) + ".example.com."
        let to = String(repeating: "h", count: 63) + "." + String(repeating: "i", count: 63) + "." + String(repeating: "j", count: 63) + ".rds.amazonaws.com"
        let comment = Route53Failover.comment(record: record, to: to)
        XCTAssertLessThanOrEqual(comment.count, 256)
        XCTAssertTrue(comment.hasPrefix("dr failover: rrrr") && comment.contains("...") && comment.hasSuffix("rds.amazonaws.com"), comment)
    }

    func hash(_ text: String) -> String { String(SHA256Hasher.hex(of: Data(text.utf8)).prefix(8)) }
}
