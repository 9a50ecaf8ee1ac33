import DRCore
import DRPostgres
import DRTestSupport
@testable import DRVerify
import XCTest

/// Owners, privileges, default privileges, row-level security flags, role memberships and
/// sequences against a real PostgreSQL 15. Roles belong to the whole test server, so each test
/// makes its own (unique names) and drops them.
final class PrivilegeTests: XCTestCase {
    private var databases: [TestDatabase] = []
    private var roles: [String] = []
    private let suffix = UUID().uuidString.prefix(6).lowercased()

    override func tearDownWithError() throws {
        databases.forEach { $0.drop() }
        databases = []
        let admin = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        defer { admin.close() }
        for role in roles.reversed() { _ = try? admin.query("DROP ROLE IF EXISTS \(role)") }
        roles = []
    }

    private func database(template: TestDatabase? = nil) throws -> TestDatabase {
        let db = try TestDatabase(prefix: "drp", template: template)
        databases.append(db)
        return db
    }

    /// Makes roles `<name>_<suffix>`, returns their names by short name.
    private func makeRoles(_ names: [String]) throws -> [String: String] {
        let admin = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        defer { admin.close() }
        var out: [String: String] = [:]
        for name in names {
            let role = "drp_\(name)_\(suffix)"
            try admin.query("CREATE ROLE \(role)")
            roles.append(role)
            out[name] = role
        }
        return out
    }

    /// A schema whose objects are owned by `owner` and granted to `reader`, who is a member of `group`.
    private func source(_ r: [String: String]) throws -> TestDatabase {
        let db = try database()
        let (owner, reader, group) = (r["owner"]!, r["reader"]!, r["group"]!)
        try db.psql("""
            GRANT \(group) TO \(reader);
            CREATE SCHEMA app AUTHORIZATION \(owner);
            GRANT USAGE ON SCHEMA app TO \(reader);
            SET ROLE \(owner);
            CREATE TABLE app.accounts (id serial PRIMARY KEY, name text, secret text);
            CREATE TYPE app.status AS ENUM ('on', 'off');
            CREATE FUNCTION app.f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
            INSERT INTO app.accounts (name) SELECT 'n' || g FROM generate_series(1, 10) g;
            GRANT SELECT ON app.accounts TO \(reader);
            GRANT UPDATE (name) ON app.accounts TO \(reader);
            REVOKE EXECUTE ON FUNCTION app.f(int) FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION app.f(int) TO \(reader);
            GRANT USAGE ON TYPE app.status TO \(reader);
            ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO \(reader);
            ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
            RESET ROLE;
            """)
        return db
    }

    func testOwnersPrivilegesAndMembershipsAreCaptured() async throws {
        let r = try makeRoles(["owner", "reader", "group"])
        let db = try source(r)
        let m = try await Manifest.capture(conninfo: db.conninfo)
        let table = try XCTUnwrap(m.objects(.table)["app.accounts"])
        XCTAssertEqual(table["owner"], r["owner"])
        XCTAssertEqual(table["acl"], "\(r["owner"]!): DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE; \(r["reader"]!): SELECT")
        XCTAssertEqual(table["row_security"], "enabled")
        XCTAssertEqual(m.objects(.column)["app.accounts.name"]?["acl"], "\(r["reader"]!): UPDATE")
        XCTAssertNil(m.objects(.column)["app.accounts.secret"]?["acl"])
        XCTAssertEqual(m.objects(.schema)["app"]?["owner"], r["owner"])
        XCTAssertTrue(m.objects(.schema)["app"]?["acl"]?.contains("\(r["reader"]!): USAGE") ?? false)
        XCTAssertEqual(m.objects(.function)["app.f(x integer)"]?["acl"], "\(r["owner"]!): EXECUTE; \(r["reader"]!): EXECUTE")
        XCTAssertTrue(m.objects(.enum)["app.status"]?["acl"]?.contains("\(r["reader"]!): USAGE") ?? false)
        XCTAssertEqual(m.objects(.sequence)["app.accounts_id_seq"]?["owner"], r["owner"])
        XCTAssertEqual(m.objects(.sequence)["app.accounts_id_seq"]?["acl"], "default")
        let defaults = try XCTUnwrap(m.objects(.defaultPrivileges)["for role \(r["owner"]!) in schema app on tables"])
        XCTAssertEqual(defaults["privileges"], "\(r["reader"]!): SELECT")
        // The roles the objects name, with their memberships; none that no object names.
        XCTAssertEqual(m.objects(.role)[r["reader"]!]?["member_of"], r["group"])
        XCTAssertNotNil(m.objects(.role)[r["owner"]!])
        XCTAssertNil(m.objects(.role)[r["group"]!], "no object names the group")
        XCTAssertFalse(String(decoding: try m.jsonData(), as: UTF8.self).contains("rolpassword"))
    }

    /// The issue's list: a REVOKE, a GRANT, an owner change, a default-privilege change, RLS
    /// forced, a lost membership, and a sequence advanced by 1,000 — each caught, each alone.
    func testEveryPrivilegeChangeIsCaught() async throws {
        let r = try makeRoles(["owner", "reader", "group", "other"])
        let src = try source(r)
        let manifest = try await Manifest.capture(conninfo: src.conninfo)
        let cases: [(String, String, Set<String>)] = [
            ("REVOKE", "REVOKE SELECT ON app.accounts FROM \(r["reader"]!)", ["table app.accounts changed acl"]),
            ("GRANT", "GRANT DELETE ON app.accounts TO \(r["other"]!)", ["table app.accounts changed acl"]),
            ("column GRANT", "GRANT UPDATE (secret) ON app.accounts TO \(r["reader"]!)", ["column app.accounts.secret changed acl"]),
            ("owner change", "ALTER TABLE app.accounts OWNER TO \(r["other"]!)",
             // The sequence keeps the default privileges (its new owner's): only its owner changed.
             ["table app.accounts changed owner", "table app.accounts changed acl", "sequence app.accounts_id_seq changed owner"]),
            ("default privileges", "ALTER DEFAULT PRIVILEGES FOR ROLE \(r["owner"]!) IN SCHEMA app GRANT INSERT ON TABLES TO \(r["reader"]!)",
             ["default privileges for role \(r["owner"]!) in schema app on tables changed privileges"]),
            ("RLS forced", "ALTER TABLE app.accounts FORCE ROW LEVEL SECURITY", ["table app.accounts changed row_security"]),
            ("function privilege", "GRANT EXECUTE ON FUNCTION app.f(int) TO PUBLIC", ["function app.f(x integer) changed acl"]),
            ("sequence advanced by 1,000", "SELECT setval('app.accounts_id_seq', 1010)", ["sequence app.accounts_id_seq sequence ahead last_value"]),
        ]
        for (label, change, expected) in cases {
            let copy = try database(template: src)
            try copy.psql(change)
            let report = try await Verifier.verify(conninfo: copy.conninfo, against: .manifest(manifest))
            let got = Set(report.failures.map { "\($0.kind.rawValue) \($0.name) \($0.difference.rawValue) \($0.property ?? "-")" })
            XCTAssertEqual(got, expected, label)
            copy.drop()
        }
        // A membership lost (roles belong to the cluster: the reference was captured before).
        let admin = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        defer { admin.close() }
        try admin.query("REVOKE \(r["group"]!) FROM \(r["reader"]!)")
        let lost = try await Verifier.verify(conninfo: src.conninfo, against: .manifest(manifest))
        XCTAssertEqual(lost.failures.map(\.summary), ["role \(r["reader"]!): member_of: expected \(r["group"]!), found (none)"])
    }

    func testASequenceWithinThePreLoggedValuesIsAcceptedWithTheReason() async throws {
        let db = try database()
        try db.psql("CREATE SEQUENCE s; SELECT nextval('s') FROM generate_series(1, 5);")
        let manifest = try await Manifest.capture(conninfo: db.conninfo)
        try db.psql("SELECT setval('s', 37)")
        let within = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        XCTAssertTrue(within.passed)
        XCTAssertEqual(within.findings.map(\.difference), [.sequenceAhead])
        XCTAssertTrue(within.findings.first?.accepted?.contains("32 values PostgreSQL logs ahead") ?? false)
        try db.psql("SELECT setval('s', 38)")
        let beyond = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        XCTAssertEqual(beyond.failures.map(\.summary), ["sequence public.s is ahead: expected last value 5, found 38"])
        let growing = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest), options: VerifyOptions(rows: .atLeast))
        XCTAssertTrue(growing.passed)
    }

    /// Across clusters whose roles are named differently, `map_role old=new` maps them.
    func testRolesRenamedInTheCopyCompareEqualWithTheMapping() async throws {
        let r = try makeRoles(["owner", "reader", "group", "owner2", "reader2"])
        let admin = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        defer { admin.close() }
        try admin.query("GRANT \(r["group"]!) TO \(r["reader2"]!)")
        let src = try source(r)
        let copy = try database()
        // The copy as another cluster's dump would hold it, under the other names.
        try copy.psql("""
            CREATE SCHEMA app AUTHORIZATION \(r["owner2"]!);
            GRANT USAGE ON SCHEMA app TO \(r["reader2"]!);
            SET ROLE \(r["owner2"]!);
            CREATE TABLE app.accounts (id serial PRIMARY KEY, name text, secret text);
            CREATE TYPE app.status AS ENUM ('on', 'off');
            CREATE FUNCTION app.f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
            INSERT INTO app.accounts (name) SELECT 'n' || g FROM generate_series(1, 10) g;
            GRANT SELECT ON app.accounts TO \(r["reader2"]!);
            GRANT UPDATE (name) ON app.accounts TO \(r["reader2"]!);
            REVOKE EXECUTE ON FUNCTION app.f(int) FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION app.f(int) TO \(r["reader2"]!);
            GRANT USAGE ON TYPE app.status TO \(r["reader2"]!);
            ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO \(r["reader2"]!);
            ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
            RESET ROLE;
            """)
        let unmapped = try await Verifier.verify(conninfo: copy.conninfo, against: .live(conninfo: src.conninfo))
        XCTAssertFalse(unmapped.passed)
        XCTAssertTrue(unmapped.failures.contains { $0.name == "app.accounts" && $0.property == "owner" })
        let map = try RoleMap(parsing: ["\(r["owner"]!)=\(r["owner2"]!)", "\(r["reader"]!)=\(r["reader2"]!)"])
        let mapped = try await Verifier.verify(conninfo: copy.conninfo, against: .live(conninfo: src.conninfo), options: VerifyOptions(roles: map))
        XCTAssertTrue(mapped.passed, mapped.failures.map(\.summary).joined(separator: "\n"))
    }
}
