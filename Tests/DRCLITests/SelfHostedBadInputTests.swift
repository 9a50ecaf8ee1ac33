import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Bad input exits 2 with one clear paragraph, and changes nothing.
final class SelfHostedBadInputTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "bad")
    }

    func writeConfig(_ yaml: String) throws -> [String: String] {
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: folder + "/dr.yml"))
        return ["DR_CONFIG": folder + "/dr.yml"]
    }

    func assertBadInput(_ result: ProcessResult, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 2, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("Stack"), file: file, line: line)
        for p in parts { XCTAssertTrue(result.stderr.contains(p), "\(result.stderr) lacks \(p)", file: file, line: line) }
    }

    func testConfigErrorsNameFileLineAndColumn() throws {
        let env = try writeConfig("targets:\n  db:\n    provider: postgres\n    conninfo: \"host=x\"\n    repository: /r\n    colour: blue\n")
        assertBadInput(try DRBinary.run(["targets"], environment: env), mentions: [folder + "/dr.yml:6:5", "unknown key \"colour\""])
        assertBadInput(try DRBinary.run(["targets", "--config", folder + "/none.yml"]), mentions: ["none.yml", "does not exist"])
    }

    func testTargetsListsBothProvidersWithoutSecrets() throws {
        let env = try writeConfig("""
        targets:
          prod-db:
            provider: rds
            region: us-east-1
            instance: social-analytics-db
            database: { conninfo: "host=db user=app password=hunter2" }
          local-db:
            provider: postgres
            conninfo: "host=127.0.0.1 port=1 user=postgres password=hunter2"
            repository: repo
        """)
        let text = try DRBinary.run(["targets"], environment: env)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("prod-db (provider rds)") && text.stdout.contains("local-db (provider postgres)"), text.stdout)
        let json = try DRBinary.run(["targets", "--output", "json"], environment: env)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((doc["targets"] as? [[String: Any]])?.map { $0["name"] as! String }, ["prod-db", "local-db"])
        XCTAssertFalse(text.stdout.contains("hunter2") || json.stdout.contains("hunter2"))

        // rds commands with no AWS credentials anywhere: exit 2, naming what was tried, nothing called.
        var noAWS = env
        for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] { noAWS[k] = "" }
        noAWS["AWS_EC2_METADATA_DISABLED"] = "true"
        noAWS["AWS_CONFIG_FILE"] = "/nonexistent/config"
        noAWS["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
        for args in [["snapshot", "prod-db"], ["restore", "prod-db", "--latest-restorable", "--as", "x"], ["status", "prod-db"]] {
            assertBadInput(try DRBinary.run(args, environment: noAWS), mentions: ["credentials"])
        }
    }

    func testUnreachableServerArchivingNotConfiguredAndRepositoryProblems() throws {
        let deadPort = try TestCluster.freePort()
        let env = try writeConfig("""
        targets:
          gone:
            provider: postgres
            conninfo: "host=127.0.0.1 port=\(deadPort) dbname=postgres user=postgres password=hunter2 connect_timeout=3"
            repository: \(folder!)/repo
        """)
        try FileManager.default.createDirectory(atPath: folder + "/repo", withIntermediateDirectories: true)
        let unreachable = try DRBinary.run(["snapshot", "gone"], environment: env)
        assertBadInput(unreachable, mentions: ["Could not connect", "port=\(deadPort)"])
        XCTAssertFalse(unreachable.stderr.contains("hunter2"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/repo"), [])

        // A live server without archiving.
        let cluster = try TestCluster(name: "noarch")
        defer { cluster.stop() }
        let live = try writeConfig("""
        targets:
          plain:
            provider: postgres
            conninfo: "\(cluster.conninfo)"
            repository: \(folder!)/repo
          norepo:
            provider: postgres
            conninfo: "\(cluster.conninfo)"
            repository: \(folder!)/missing
          rootrepo:
            provider: postgres
            conninfo: "\(cluster.conninfo)"
            repository: \(folder!)/rootrepo
        """)
        assertBadInput(try DRBinary.run(["snapshot", "plain"], environment: live), mentions: ["not configured", "dr archive setup"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/repo"), [])
        assertBadInput(try DRBinary.run(["archive", "setup", "norepo", "--apply"], environment: live), mentions: ["missing does not exist"])
        // The server's archive_command runs as postgres: a repository it cannot write is refused.
        if geteuid() == 0 {
            try FileManager.default.createDirectory(atPath: folder + "/rootrepo", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            chown(folder + "/rootrepo", 0, 0)
            assertBadInput(try DRBinary.run(["archive", "setup", "rootrepo", "--apply"], environment: live), mentions: ["not writable by the OS user postgres"])
        }
        XCTAssertEqual(try cluster.scalar("SELECT setting FROM pg_settings WHERE name = 'archive_mode'"), "off", "nothing was applied")
        let pending = try cluster.scalar("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'")
        XCTAssertEqual(pending, "0")
    }

    func testTimeOutsideTheWindowAndNameInUse() throws {
        let source = try ArchivedSource()
        defer { source.stop() }
        try source.cluster.execute("CREATE TABLE t (i int)", "INSERT INTO t VALUES (1)")
        let before = try source.cluster.now()
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)

        let early = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(before.addingTimeInterval(-60)), "--as", "x"])
        assertBadInput(early, mentions: ["outside the restorable window", " to "])
        let future = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(Date().addingTimeInterval(3600)), "--as", "x"])
        assertBadInput(future, mentions: ["outside the restorable window"])
        assertBadInput(try source.dr(["restore", source.target, "--point-in-time", "yesterday", "--as", "x"]), mentions: ["RFC 3339"])
        assertBadInput(try source.dr(["restore", source.target, "--latest-restorable", "--as", "../etc"]), mentions: ["not a usable name"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/x"))

        XCTAssertEqual(try source.dr(["restore", source.target, "--latest-restorable", "--as", "taken"]).status, 0)
        let marker = try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/taken/dr-restored.json"))
        // The same restore again is found, not repeated; a restore of another point under the name is refused.
        let again = try source.dr(["restore", source.target, "--latest-restorable", "--as", "taken"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("made earlier for the same point"), again.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/taken/dr-restored.json")), marker)
        assertBadInput(try source.dr(["restore", source.target, "--from-snapshot", "latest", "--as", "taken"]), mentions: ["already in use", "--as"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/taken/dr-restored.json")), marker)
        XCTAssertFalse(String(decoding: marker, as: UTF8.self).contains(source.cluster.password))
        assertBadInput(try source.dr(["teardown", "nobody"]), mentions: ["nobody"])
        XCTAssertEqual(try source.dr(["teardown", "taken"]).status, 0)
    }
}
