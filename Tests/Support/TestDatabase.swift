import DRCore
import DRPostgres
import Foundation
import XCTest

/// A database of its own on the shared test server, created empty (or as a copy of another)
/// with a unique name, loaded with SQL through psql, and dropped by `drop()`.
public final class TestDatabase {
    public let name: String
    /// Conninfo of this database (superuser, with password: never print it).
    public let conninfo: String
    private let serverConninfo: String

    public init(prefix: String = "drt", template: TestDatabase? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        serverConninfo = try TestEnvironment.postgresConninfo(file: file, line: line)
        name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        conninfo = Self.conninfo(serverConninfo, database: name)
        let admin = try PGConnection(conninfo: serverConninfo)
        defer { admin.close() }
        let templateClause = try template.map { " TEMPLATE \(try admin.quoteIdentifier($0.name))" } ?? ""
        try admin.query("CREATE DATABASE \(try admin.quoteIdentifier(name))\(templateClause)")
    }

    /// The same server's conninfo naming another database (a later `dbname=` wins in libpq).
    public static func conninfo(_ server: String, database: String) -> String {
        "\(server) dbname='\(database.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'"
    }

    /// Runs SQL (several statements, DO blocks, psql variables) through psql; fails on the first error.
    public func psql(_ sql: String, variables: [String: String] = [:]) throws {
        let bindir = try TestEnvironment.postgresBindir()
        var args = ["-X", "-q", "-v", "ON_ERROR_STOP=1"]
        for (k, v) in variables { args += ["-v", "\(k)=\(v)"] }
        args += ["-f", "-", conninfo]
        let result = try SystemProcessRunner.runBlocking("\(bindir)/psql", args, nil, nil, Data(sql.utf8))
        guard result.succeeded else {
            throw DRError.badInput("psql failed: \(Redact.conninfo(result.stderr))")
        }
    }

    /// Loads a SQL file (e.g. scripts/sample/platform.sql).
    public func psql(file: String, variables: [String: String] = [:]) throws {
        try psql(String(contentsOfFile: file, encoding: .utf8), variables: variables)
    }

    /// Restores `source` into this database with `pg_dump -Fc | pg_restore`.
    public func restoreDump(of source: TestDatabase) throws {
        let bindir = try TestEnvironment.postgresBindir()
        let dump = try SystemProcessRunner.runBlocking("/bin/sh", ["-c", "\"$0/pg_dump\" -Fc \"$1\" | \"$0/pg_restore\" --exit-on-error -d \"$2\"", bindir, source.conninfo, conninfo])
        guard dump.succeeded else { throw DRError.badInput("pg_dump | pg_restore failed: \(Redact.conninfo(dump.stderr))") }
    }

    /// Runs one query on this database and returns its first value.
    @discardableResult
    public func scalar(_ sql: String) throws -> String? {
        let conn = try PGConnection(conninfo: conninfo)
        defer { conn.close() }
        return try conn.query(sql).scalar
    }

    public func drop() {
        guard let admin = try? PGConnection(conninfo: serverConninfo) else { return }
        defer { admin.close() }
        if let quoted = try? admin.quoteIdentifier(name) {
            _ = try? admin.query("DROP DATABASE IF EXISTS \(quoted) WITH (FORCE)")
        }
    }

    /// The repository's root (for scripts/sample).
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }
}
