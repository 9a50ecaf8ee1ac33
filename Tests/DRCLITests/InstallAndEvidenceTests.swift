import DRCore
import DRTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// dr outside its checkout, against a real PostgreSQL 15: the built binary runs the shipped
/// runbooks by name from an empty directory holding only a dr.yml (nothing installed); `make
/// install` into a temporary prefix gives a binary that drills a self-hosted target from such a
/// directory, with its installed runbooks winning; the drill's page, the history page and the
/// status metrics come out of those runs and are checked (Chromium, html5lib, promtool); `make
/// uninstall` leaves the prefix as it was.
final class InstallAndEvidenceTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    var source: ArchivedSource!
    var work: String!

    override func setUpWithError() throws {
        source = try ArchivedSource()
        work = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "install")
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), payload text)",
                                   "INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 300) g")
        try source.writeConfig(weekly: 2, extra: """
            verify: { rows: exact, freshness_query: "SELECT max(created_at) FROM events" }
            drill: { max_age: 7d }
        """)
    }

    override func tearDown() { source?.stop() }

    /// An empty folder with only the source's dr.yml in it.
    func emptyDirectory(_ name: String) throws -> String {
        let dir = work + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source.config, toPath: dir + "/dr.yml")
        return dir
    }

    /// Runs `binary` in `directory` as a user would there: no DR_CONFIG, the state in `work`.
    func run(_ binary: String, _ args: [String], in directory: String) throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        env["DR_CONFIG"] = nil
        env["DR_STATE_DIR"] = work + "/state"
        env["PGPASSWORD"] = source.cluster.password
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["NO_COLOR"] = "1"
        return try SystemProcessRunner.runBlocking(binary, args, env, directory)
    }

    func tree(_ root: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: root)
        var out: [String] = []
        while let path = walker?.nextObject() as? String { out.append(path) }
        return out.sorted()
    }

    func make(_ args: [String]) throws -> ProcessResult {
        try SystemProcessRunner.runBlocking("/usr/bin/make", ["-s", "-C", Self.repo] + args)
    }

    func testOutsideTheCheckoutBuiltInThenInstalledRunbooksDrillPagesAndMetrics() throws {
        // Nothing installed: the built binary runs weekly-snapshot by name from an empty directory.
        let bare = try emptyDirectory("bare")
        let listed = try run(DRBinary.path, ["runbook", "list"], in: bare)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("weekly-snapshot        built into dr"), listed.stdout)
        let weekly = try run(DRBinary.path, ["run", "weekly-snapshot", "--input", "target=\(source.target)", "--output", "json"], in: bare)
        XCTAssertEqual(weekly.status, 0, weekly.stdout + weekly.stderr)
        let runbook = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(weekly.stdout.utf8)) as? [String: Any])?["runbook"] as? String)
        XCTAssertEqual(runbook, "weekly-snapshot")
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: work + "/state/runbooks").contains { $0.hasPrefix("weekly-snapshot-") })
        try source.cluster.execute("INSERT INTO events (payload) VALUES ('after the backup')")
        try source.cluster.switchWal(waitingFor: source.repository)
        // ... and drills with the built-in restore-drill, which runs from its copy in the state directory.
        let builtInDrill = try run(DRBinary.path, ["drill", source.target, "--output", "json"], in: bare)
        XCTAssertEqual(builtInDrill.status, 0, builtInDrill.stdout + builtInDrill.stderr)
        let builtInReport = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(builtInDrill.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(builtInReport["verdict"] as? String, "passed")
        XCTAssertTrue((builtInReport["runbook"] as? String ?? "").hasPrefix(work + "/state/runbooks/restore-drill-"), "\(builtInReport["runbook"] ?? "")")

        // Installed into a prefix that already holds something of its own.
        let prefix = work + "/prefix"
        try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: prefix + "/bin/other-tool", contents: Data("keep".utf8))
        let before = tree(prefix)
        let install = try make(["install", "PREFIX=\(prefix)", "BINARY=\(DRBinary.path)"])
        XCTAssertEqual(install.status, 0, install.stderr)
        for file in ["bin/dr", "share/dr/runbooks/restore-drill.yml", "share/dr/runbooks/weekly-snapshot.yml",
                     "share/bash-completion/completions/dr", "share/zsh/site-functions/_dr", "share/fish/vendor_completions.d/dr.fish"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + file), file)
        }
        XCTAssertTrue(try String(contentsOfFile: prefix + "/share/bash-completion/completions/dr", encoding: .utf8).contains("drill"))
        let installed = prefix + "/bin/dr"

        // The installed binary, from an empty directory with only a dr.yml: its runbooks win, and the drill passes.
        let home = try emptyDirectory("home")
        let list = try run(installed, ["runbook", "list", "--output", "json"], in: home)
        XCTAssertEqual(list.status, 0, list.stderr)
        let entries = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["runbooks"] as? [[String: Any]])
        let drillEntry = try XCTUnwrap(entries.first { $0["name"] as? String == "restore-drill" })
        XCTAssertEqual(drillEntry["file"] as? String, prefix + "/share/dr/runbooks/restore-drill.yml")
        XCTAssertEqual(drillEntry["shadows"] as? [String], ["built into dr"])
        let drill = try run(installed, ["drill", source.target, "--output", "json"], in: home)
        XCTAssertEqual(drill.status, 0, drill.stdout + drill.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(drill.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["verdict"] as? String, "passed")
        XCTAssertEqual(report["runbook"] as? String, prefix + "/share/dr/runbooks/restore-drill.yml")
        let drillID = try XCTUnwrap(report["drill_id"] as? String)

        // The drill's page, as Chromium and html5lib read it.
        let page = home + "/drill-reports/drill-\(source.target)-\(drillID).html"
        XCTAssertNoThrow(try XMLDocument(contentsOf: URL(fileURLWithPath: page), options: []))
        XCTAssertEqual(try HeadlessBrowser.html5(page).errors, [])
        let dom = try HeadlessBrowser.dumpDOM(page)
        XCTAssertTrue(dom.contains("<span class=\"verdict passed\" id=\"verdict\">passed</span>"), dom)
        for phase in ["restore", "connect", "verify"] { XCTAssertTrue(dom.contains("</span> \(phase)</td>"), phase) }
        // A passed verification lists no failing finding (accepted ones, with their reason, may show).
        XCTAssertTrue(dom.contains("No differences.") || dom.contains("class=\"finding accepted\""), dom)
        XCTAssertFalse(dom.contains("✗ failing"), "a passed verification lists no failing finding")
        XCTAssertFalse(dom.contains(source.cluster.password))
        let png = work + "/drill.png"
        try HeadlessBrowser.screenshot(page, to: png)
        XCTAssertGreaterThan(try HeadlessBrowser.pixels(png, colours: ["#1e7b34"]).counts["#1e7b34"] ?? 0, 500, "the green verdict is painted")

        // The history page links to it.
        let history = try run(installed, ["drill", "history", "--all", "--output", "html", "--link-base", "drill-reports/"], in: home)
        XCTAssertEqual(history.status, 0, history.stderr)
        let historyPage = home + "/history.html"
        try history.stdout.write(toFile: historyPage, atomically: true, encoding: .utf8)
        XCTAssertEqual(try HeadlessBrowser.html5(historyPage).errors, [])
        let historyDOM = try HeadlessBrowser.dumpDOM(historyPage)
        XCTAssertTrue(historyDOM.contains("href=\"drill-reports/drill-\(source.target)-\(drillID).html\""), historyDOM)
        XCTAssertTrue(historyDOM.contains("within policy"))
        XCTAssertEqual(historyDOM.components(separatedBy: "<tr class=\"drill passed\">").count - 1, 2, "the built-in and the installed runbook's drills")

        // The status metrics: real ages and window, the drill's success, written atomically.
        let textfile = home + "/dr_status.prom"
        let status = try run(installed, ["status", "--all", "--output", "prometheus", "--textfile", textfile], in: home)
        XCTAssertEqual(status.status, 0, status.stderr)
        let metrics = try String(contentsOfFile: textfile, encoding: .utf8)
        let lint = try SystemProcessRunner.runBlocking("/usr/bin/promtool", ["check", "metrics"], nil, nil, Data(metrics.utf8))
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr)
        var values: [String: Double] = [:]
        for line in metrics.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            values[String(parts[0].prefix { $0 != "{" })] = parts[1] == "+Inf" ? .infinity : Double(parts[1])
        }
        let now = Date().timeIntervalSince1970
        XCTAssertEqual(values["dr_status_up"], 1)
        XCTAssertTrue((0..<600).contains(values["dr_snapshot_newest_age_seconds"] ?? -1), metrics)
        XCTAssertTrue((0..<600).contains(values["dr_dr_copy_newest_age_seconds"] ?? -1), "weekly-snapshot copied it: \(metrics)")
        XCTAssertTrue((now - 600...now).contains(values["dr_restorable_window_end_timestamp_seconds"] ?? 0), metrics)
        XCTAssertLessThan(values["dr_restorable_window_start_timestamp_seconds"] ?? .infinity, values["dr_restorable_window_end_timestamp_seconds"] ?? 0)
        XCTAssertTrue((0..<600).contains(values["dr_data_loss_exposure_seconds"] ?? -1), metrics)
        XCTAssertTrue((0..<600).contains(values["dr_wal_archive_lag_seconds"] ?? -1), metrics)
        XCTAssertTrue((now - 600...now).contains(values["dr_drill_history_last_success_timestamp_seconds"] ?? 0), metrics)
        XCTAssertEqual(values["dr_drill_max_age_seconds"], 7 * 86400)
        XCTAssertNil(values["dr_cache_snapshot_newest_age_seconds"], "a self-hosted target has no cache")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: home).contains { $0.hasSuffix(".tmp") })

        // A target whose repository is gone: marked down, the rest still written, the error's exit code.
        try FileManager.default.moveItem(atPath: source.repository, toPath: source.repository + ".moved")
        let down = try run(installed, ["status", "--all", "--output", "prometheus", "--textfile", textfile], in: home)
        try FileManager.default.moveItem(atPath: source.repository + ".moved", toPath: source.repository)
        XCTAssertEqual(down.status, 2, down.stderr)
        XCTAssertTrue(down.stderr.contains(source.target), down.stderr)
        XCTAssertTrue(try String(contentsOfFile: textfile, encoding: .utf8).contains("dr_status_up{target=\"\(source.target)\",provider=\"postgres\"} 0"))

        // Uninstalled: the prefix is as it was.
        let uninstall = try make(["uninstall", "PREFIX=\(prefix)"])
        XCTAssertEqual(uninstall.status, 0, uninstall.stderr)
        XCTAssertEqual(tree(prefix), before)
    }
}
