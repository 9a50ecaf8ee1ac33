@testable import DRProcedures
import DRCore
import DRVerify
import XCTest

final class ConfigLoaderTests: XCTestCase {
    let file = "/etc/dr/dr.yml"

    func parse(_ yaml: String) throws -> TargetsConfig { try ConfigLoader.parse(yaml, file: file) }

    func assertBadInput(_ yaml: String, contains parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try parse(yaml), line: line) { error in
            guard let e = error as? DRError else { return XCTFail("not a DRError: \(error)", line: line) }
            XCTAssertEqual(e.category, .badInput, line: line)
            for p in parts { XCTAssertTrue(e.message.contains(p), "\(e.message) lacks \(p)", line: line) }
        }
    }

    func testBothProvidersAsInTheIssues() throws {
        let config = try parse("""
        targets:
          prod-db:
            provider: rds
            region: us-east-1
            instance: social-analytics-db
            dr_region: us-west-2
            dr_kms_key_id: alias/dr-backups
            database: { secret: production/social-analytics/database/main }
            cache: { replication_group: social-analytics-redis }
            retention: { weekly: 4, dr_region: 4 }
            tags: { team: data }
            verify: { rows: within=5, freshness_query: "SELECT max(created_at) FROM posts" }
          local-db:
            provider: postgres
            conninfo: "host=127.0.0.1 port=5432 dbname=app user=postgres password=s3cret"
            repository: /var/lib/dr/repo
            dr_repository: ../dr-copy/repo
            retention: { weekly: 4 }
        """)
        XCTAssertEqual(config.targets.map(\.name), ["prod-db", "local-db"])
        guard case .rds(let rds) = try config.target(named: "prod-db").provider else { return XCTFail() }
        XCTAssertEqual(rds.resource, .instance("social-analytics-db"))
        XCTAssertEqual(rds.database, .secret("production/social-analytics/database/main"))
        XCTAssertEqual(rds.cacheReplicationGroup, "social-analytics-redis")
        XCTAssertEqual(rds.retentionDRRegion, 4)
        XCTAssertEqual(rds.tags, ["team": "data"])
        XCTAssertEqual(try config.target(named: "prod-db").verify, VerifyPolicy(rows: .within(percent: 5), freshnessQuery: "SELECT max(created_at) FROM posts"))
        guard case .postgres(let pg) = try config.target(named: "local-db").provider else { return XCTFail() }
        XCTAssertEqual(pg.repository, "/var/lib/dr/repo")
        XCTAssertEqual(pg.drRepository, "/etc/dr-copy/repo", "relative paths are taken from the config file's folder")
        XCTAssertEqual(pg.restoreRoot, "/var/lib/dr/dr-restores")
        XCTAssertEqual(pg.retentionWeekly, 4)
        let summary = try config.target(named: "local-db").summary
        XCTAssertFalse(summary["conninfo"]!.contains("s3cret"))
    }

    func testUnknownKeyNamesFileLineAndColumn() {
        assertBadInput("""
        targets:
          local-db:
            provider: postgres
            conninfo: "host=x"
            repository: /r
            retension: { weekly: 4 }
        """, contains: ["/etc/dr/dr.yml:6:5", "unknown key \"retension\"", "retention"])
    }

    func testWrongTypeMissingFieldAndUnknownProvider() {
        assertBadInput("""
        targets:
          local-db:
            provider: postgres
            conninfo: "host=x"
            repository: /r
            retention: { weekly: four }
        """, contains: ["/etc/dr/dr.yml:6:26", "whole number"])
        assertBadInput("""
        targets:
          local-db:
            provider: postgres
            conninfo: "host=x"
        """, contains: ["/etc/dr/dr.yml:3:5", "missing the required key \"repository\""])
        assertBadInput("""
        targets:
          a:
            provider: oracle
        """, contains: ["/etc/dr/dr.yml:3:15", "unknown provider \"oracle\"", "rds, postgres"])
        assertBadInput("""
        targets:
          a:
            provider: rds
            region: us-east-1
        """, contains: ["instance:", "cluster:"])
        assertBadInput("""
        targets:
          a:
            provider: rds
            region: us-east-1
            cluster: c
            verify: { rows: roughly }
        """, contains: ["/etc/dr/dr.yml:6:21", "exact, at-least, or within=PCT"])
        assertBadInput("targets: [a, b]\n", contains: ["/etc/dr/dr.yml:1:10", "mapping"])
    }

    func testVerifyContentAndExclusions() throws {
        let target = "targets:\n  a:\n    provider: rds\n    region: us-east-1\n    cluster: c\n"
        let config = try parse(target + "    verify: { content: checksum, exclude_content: [public.audit_log, '\"Odd Schema\".T'] }\n")
        let policy = try XCTUnwrap(try config.target(named: "a").verify)
        XCTAssertEqual(policy.content, .checksum)
        XCTAssertEqual(policy.excludeContent, [TableName(schema: "public", table: "audit_log"), TableName(schema: "Odd Schema", table: "t")])
        XCTAssertEqual(try config.target(named: "a").summary["verify.content"], "checksum")
        XCTAssertEqual(try parse(target + "    verify: { rows: exact }\n").target(named: "a").verify?.content, ContentMode.none)
        assertBadInput(target + "    verify: { content: everything }\n", contains: ["/etc/dr/dr.yml:6:", "verify.content", "checksum"])
        assertBadInput(target + "    verify: { exclude_content: [public.t] }\n", contains: ["exclude_content applies to content: checksum"])
        assertBadInput(target + "    verify: { content: checksum, exclude_content: public.t }\n", contains: ["must be a list"])
        assertBadInput(target + "    verify: { content: checksum, exclude_content: [nodot] }\n", contains: ["not a table name", "schema.table"])
    }

    func testInvalidYAMLAndEmptyFile() {
        assertBadInput("targets:\n  a: {provider: rds\n", contains: ["/etc/dr/dr.yml:", "not valid YAML"])
        assertBadInput("", contains: ["empty"])
        // Issue 11 item 5: an unclosed quote is placed where it opens, not at the end of the file.
        assertBadInput("targets:\n  a:\n    provider: postgres\n    conninfo: \"host=127.0.0.1\n    repository: /r\n", contains: ["/etc/dr/dr.yml:4:15", "quoted scalar"])
        // A key given twice has its place too.
        assertBadInput("targets:\n  a:\n    provider: rds\n    region: us-east-1\n    region: us-west-2\n    cluster: c\n",
                       contains: ["/etc/dr/dr.yml:4:5", "`region` appears more than once"])
    }

    func testUnknownTargetListsKnownOnes() throws {
        let config = try parse("targets:\n  a:\n    provider: rds\n    region: r\n    cluster: c\n")
        XCTAssertThrowsError(try config.target(named: "b")) { error in
            XCTAssertTrue("\(error)".contains("Known targets: a"))
        }
    }

    func testConfigPathResolution() {
        XCTAssertEqual(ConfigLoader.resolvePath(explicit: nil, environment: [:], workingDirectory: "/w"), "/w/dr.yml")
        XCTAssertEqual(ConfigLoader.resolvePath(explicit: nil, environment: ["DR_CONFIG": "/x/y.yml"], workingDirectory: "/w"), "/x/y.yml")
        XCTAssertEqual(ConfigLoader.resolvePath(explicit: "c.yml", environment: ["DR_CONFIG": "/x/y.yml"], workingDirectory: "/w"), "/w/c.yml")
    }
}
