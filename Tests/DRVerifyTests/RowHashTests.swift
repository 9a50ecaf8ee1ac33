import DRCore
@testable import DRVerify
import XCTest

/// The pure pieces of the content and privilege checks, with fixed vectors: the row-hash
/// expression, role mapping, and the parsing of what users type.
final class RowHashTests: XCTestCase {
    private func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    private func column(_ name: String, _ type: UInt32, notNull: Bool = false, category: Character = "S", typtype: Character = "b") -> RowHash.Column {
        RowHash.Column(name: name, notNull: notNull, typeOID: type, category: category, typtype: typtype)
    }

    func testColumnsAreHashedInByteOrderOfTheirNames() {
        // "B" (0x42) sorts before "a" (0x61): byte order, not a collation's.
        let e = RowHash.expression([column("a", 23, notNull: true, category: "N"), column("B", 25, notNull: true)], quote: quote)
        XCTAssertEqual(e, #"pg_catalog.hashint4extended("a", pg_catalog.hashtextextended("B"::text COLLATE pg_catalog."C", 0))"#)
        let swapped = RowHash.expression([column("B", 25, notNull: true), column("a", 23, notNull: true, category: "N")], quote: quote)
        XCTAssertEqual(e, swapped, "the catalog's column order does not matter")
    }

    func testEachKindOfColumnHasItsHash() {
        let e = RowHash.expression([
            column("i8", 20, notNull: true, category: "N"),
            column("ts", 1184, notNull: true, category: "D"),
            column("o", 26, notNull: true, category: "N"),
        ], quote: quote)
        XCTAssertEqual(e, #"pg_catalog.hashtextextended("ts"::text COLLATE pg_catalog."C", "#
            + #"pg_catalog.hashoidextended("o", "#
            + #"pg_catalog.hashint8extended("i8", pg_catalog.hashint4extended(("i8" >> 32)::int4, 0))))"#)
    }

    /// NULL hashes as '' (or 0); where that is also a value, a bitmap of those columns' NULLs seeds the chain.
    func testNullsAreToldApartFromEmptyStringsAndZeros() {
        let e = RowHash.expression([
            column("t", 25),                                  // text: '' is a value → flagged
            column("n", 23, category: "N"),                   // int4: 0 is a value → flagged
            column("d", 1184, category: "D"),                 // timestamptz: never '' → not flagged
            column("k", 25, notNull: true),                   // NOT NULL: no stand-in needed
        ], quote: quote)
        XCTAssertEqual(e, #"pg_catalog.hashtextextended(coalesce("t"::text COLLATE pg_catalog."C", ''), "#
            + #"pg_catalog.hashint4extended(coalesce("n", 0), "#
            + #"pg_catalog.hashtextextended("k"::text COLLATE pg_catalog."C", "#
            + #"pg_catalog.hashtextextended(coalesce("d"::text COLLATE pg_catalog."C", ''), "#
            + #"pg_catalog.hashint4extended(CASE WHEN "n" IS NULL THEN 1 ELSE 0 END + CASE WHEN "t" IS NULL THEN 2 ELSE 0 END, 0)))))"#)
    }

    func testWideTablesUseOneBitmapWordPer31FlaggedColumns() {
        let columns = (0..<70).map { column(String(format: "c%02d", $0), 25) }
        let e = RowHash.expression(columns, quote: quote)
        XCTAssertEqual(e.components(separatedBy: "pg_catalog.hashint4extended(CASE").count - 1, 3)
        XCTAssertTrue(e.contains("CASE WHEN \"c30\" IS NULL THEN 1073741824 ELSE 0 END"))
        XCTAssertTrue(e.contains("CASE WHEN \"c31\" IS NULL THEN 1 ELSE 0 END"))
        XCTAssertEqual(RowHash.expression([], quote: quote), "0")
    }

    func testRoleMappingRenamesAndResortsEveryRoleReference() {
        let map = try! RoleMap(parsing: ["app=zed", "\"Old Owner\"=owner"])
        XCTAssertEqual(RoleMapping.role("app", map), "zed")
        XCTAssertEqual(RoleMapping.role("\"Old Owner\"", map), "owner")
        XCTAssertEqual(RoleMapping.role("other", map), "other")
        XCTAssertEqual(RoleMapping.acl("PUBLIC: USAGE; app: SELECT, UPDATE WITH GRANT OPTION; \"Old Owner\": DELETE", map),
                       "PUBLIC: USAGE; owner: DELETE; zed: SELECT, UPDATE WITH GRANT OPTION")
        XCTAssertEqual(RoleMapping.list("app WITH ADMIN OPTION, beta", map, separator: ", "), "beta, zed WITH ADMIN OPTION")
        XCTAssertEqual(RoleMapping.list("public, app", map, separator: ", "), "public, zed")
        // Quoted names with the separators inside them stay whole.
        XCTAssertEqual(RoleMapping.acl("\"a; b: c\": SELECT", map), "\"a; b: c\": SELECT")

        let server = ServerIdentity(target: "t", database: "d", version: "15", systemIdentifier: nil)
        let m = Manifest(capturedAt: "x", server: server, objects: [
            "table": ["public.t": ["owner": "app", "acl": "app: SELECT; \"Old Owner\": INSERT"]],
            "role": ["app": ["member_of": "\"Old Owner\""]],
            "default privileges": ["for role app in schema public on tables": ["role": "app", "schema": "public", "object_type": "tables", "privileges": "app: SELECT"]],
            "policy": ["public.t.p": ["roles": "app, public", "table": "public.t"]],
        ], rowCounts: [:])
        let mapped = RoleMapping.apply(map, to: m)
        XCTAssertEqual(mapped.objects(.table)["public.t"], ["owner": "zed", "acl": "owner: INSERT; zed: SELECT"])
        XCTAssertEqual(mapped.objects(.role)["zed"], ["member_of": "owner"])
        XCTAssertEqual(mapped.objects(.defaultPrivileges)["for role zed in schema public on tables"]?["privileges"], "zed: SELECT")
        XCTAssertEqual(mapped.objects(.policy)["public.t.p"]?["roles"], "public, zed")
    }

    func testWhatUsersTypeIsParsedOrRefusedWithTheParameterNamed() throws {
        XCTAssertEqual(try TableName(parsing: "public.Audit_Log", parameter: .excludeContent), TableName(schema: "public", table: "audit_log"))
        let odd = try TableName(parsing: #""Odd Schema"."My ""T""""#, parameter: .excludeContent)
        XCTAssertEqual([odd.schema, odd.table], ["Odd Schema", "My \"T\""])
        XCTAssertEqual(try TableName(parsing: #"s."a.b""#, parameter: .excludeContent).table, "a.b")
        for bad in ["audit", "a.b.c", "\"open.t", ".t", "s."] {
            XCTAssertThrowsError(try TableName(parsing: bad, parameter: .excludeContent), bad) { error in
                XCTAssertEqual((error as? DRError)?.category, .badInput)
                XCTAssertEqual((error as? DRError)?.text.parameters, [.excludeContent])
            }
        }
        XCTAssertEqual(try RoleMap(parsing: ["App=Other"]).names, ["app": "other"])
        XCTAssertEqual(try RoleMap(parsing: [#""App"="B c""#]).names, ["App": "B c"])
        for bad in [["app"], ["=x"], ["a=b", "a=c"], ["\"a=b"]] {
            XCTAssertThrowsError(try RoleMap(parsing: bad), "\(bad)") { error in
                XCTAssertEqual((error as? DRError)?.text.parameters.first, .mapRole)
            }
        }
        XCTAssertEqual(try ContentMode(parsing: " Checksum "), .checksum)
        XCTAssertThrowsError(try ContentMode(parsing: "md5")) { XCTAssertEqual(($0 as? DRError)?.text.parameters, [.content]) }
    }

    func testObjectPropertiesBehaveLikeADictionary() {
        var p: ObjectProperties = ["b": "2", "a": "1", "empty": ""]
        XCTAssertEqual(p["a"], "1")
        XCTAssertEqual(p["empty"], "")
        XCTAssertNil(p["c"])
        XCTAssertEqual(p.keys, ["a", "b", "empty"])
        p["c"] = "line\nbreak"
        p["a"] = nil
        XCTAssertEqual(p.dictionary, ["b": "2", "c": "line\nbreak", "empty": ""])
        XCTAssertEqual(p, ObjectProperties(["empty": "", "c": "line\nbreak", "b": "2"]))
        XCTAssertNotEqual(p, ObjectProperties(["b": "2"]))
        XCTAssertTrue(ObjectProperties().isEmpty)
    }
}
