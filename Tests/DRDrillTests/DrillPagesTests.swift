import DRCore
import DRProcedures
@testable import DRDrill
import DRRunbook
import DRRunbookEngine
import DRTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// The drill page and the history page from fixed records: their content, escaping and
/// well-formedness (an XML parser and html5lib), then rendered by headless Chromium — the DOM it
/// built holds the verdict, the phases and every finding, the screenshot shows the verdict, and
/// the page prints.
final class DrillPagesTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "dr-pages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func failedReport() throws -> DrillReport {
        try JSONDecoder().decode(DrillReport.self, from: Data(DrillFixtures.failedReportJSON.utf8))
    }

    func history() throws -> [DrillHistory.Entry] {
        try DrillFixtures.historyLines.map { try JSONDecoder().decode(DrillHistory.Entry.self, from: Data($0.utf8)) }
    }

    func write(_ html: String, _ name: String) throws -> String {
        let path = folder + "/" + name
        try html.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Well-formed as XML (every element closed, attributes quoted) and free of HTML parse errors.
    func assertWellFormed(_ path: String, line: UInt = #line) throws {
        XCTAssertNoThrow(try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: []), "not well-formed XML", line: line)
        let parsed = try HeadlessBrowser.html5(path)
        XCTAssertEqual(parsed.errors, [], "html5lib parse errors", line: line)
    }

    func testDrillPageHoldsEveryPartAndEscapesText() throws {
        let html = DrillPage.html(try failedReport())
        let path = try write(html, "drill.html")
        try assertWellFormed(path)
        // Self-contained: no script, no external resource.
        XCTAssertFalse(html.contains("<script"), "no script (the finding's <script> is text)")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for pattern in ["src=", "href=\"http", "@import", "url("] { XCTAssertFalse(html.contains(pattern), pattern) }
        let text = try HeadlessBrowser.html5(path).text
        for expected in ["failed", "pitr:-5m", "2026-11-26T03:10:00.000Z", "the restored data ends at 2026-11-26T03:09:17.500Z",
                         "restore", "connect", "verify", "4m00s", "10.0s", "2m00s", "6m10s", "42.5s before the recovery point",
                         "public.orders: expected 1200 rows, found 1187", "index public.\"<script>alert(1)</script>\" is missing",
                         "unlogged tables are empty after a physical restore", "2 failing findings, 1 accepted difference",
                         "drill-prod-db-20261126t031500z-3fa2 : removed in 3.2s", "Verification found 2 differences"] {
            XCTAssertTrue(text.contains(expected), "missing \(expected) in: \(text)")
        }
        // The bar: one segment per phase, widths proportional to the phases' durations (240:10:120 of 900).
        let widths = try NSRegularExpression(pattern: ##"<rect x="[0-9.]+" y="8" width="([0-9.]+)" height="34" fill="#(?!eef1f4)"##)
            .matches(in: html, range: NSRange(html.startIndex..., in: html)).map { Double(html[Range($0.range(at: 1), in: html)!])! }
        XCTAssertEqual(widths.count, 3)
        for (w, seconds) in zip(widths, [240.0, 10, 120]) { XCTAssertEqual(w, seconds / 370 * 900, accuracy: 0.1) }
    }

    func testHistoryPageChartsMarksAndLinks() throws {
        let entries = try history()
        let target = Target(name: "prod-db", provider: .postgres(PostgresTargetSettings(conninfo: "host=127.0.0.1", repository: "/r")),
                            drill: DrillPolicy(maxAge: 86_400))
        let now = RFC3339.parse("2026-11-27T12:00:00Z")!
        let summary = DrillHistorySummary(target: target, entries: entries, last: 10, now: now)
        let html = DrillHistoryPage.html([.init(summary: summary, entries: entries)], generatedAt: now, linkBase: "./")
        let path = try write(html, "history.html")
        try assertWellFormed(path)
        XCTAssertFalse(html.contains("<script"))
        // A bar segment per phase per drill, a mark per drill (5 passed, 1 failed) on each chart, a link per drill.
        XCTAssertEqual(html.components(separatedBy: "<rect class=\"bar\"").count - 1, 18)
        XCTAssertEqual(html.components(separatedBy: "class=\"mark passed\"").count - 1, 10)
        XCTAssertEqual(html.components(separatedBy: "class=\"mark failed\"").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "<circle class=\"point\"").count - 1, 5, "failed drill measured no freshness")
        for entry in entries { XCTAssertTrue(html.contains("href=\"./drill-prod-db-\(entry.drillID).html\""), entry.drillID) }
        let text = try HeadlessBrowser.html5(path).text
        // The newest success ended 2026-11-25T03:25Z: 56h35m before now, beyond the 1d policy.
        XCTAssertTrue(text.contains("overdue") && text.contains("2026-11-25T03:25:00Z") && text.contains("56h35m"), text)
        XCTAssertTrue(text.contains("longer than its policy allows"), text)
        // Without a link base, each page's own path as a file: URL.
        let plain = DrillHistoryPage.html([.init(summary: summary, entries: entries)], generatedAt: now)
        XCTAssertTrue(plain.contains("href=\"file:///var/lib/dr/reports/drill-prod-db-20261125T031500Z-0005.html\""))
    }

    /// Chromium parses and paints both pages: the verdict, phases and findings in its DOM, the
    /// verdict's colour on the screenshot, the screenshot of the size asked for.
    func testBothPagesRenderInHeadlessChromium() throws {
        let report = try failedReport()
        let drill = try write(DrillPage.html(report), "drill.html")
        let dom = try HeadlessBrowser.dumpDOM(drill)
        XCTAssertTrue(dom.contains("<span class=\"verdict failed\" id=\"verdict\">failed</span>"), dom)
        for phase in ["restore", "connect", "verify"] { XCTAssertTrue(dom.contains("</span> \(phase)</td>"), phase) }
        XCTAssertEqual(dom.components(separatedBy: "<tr class=\"finding ").count - 1, 3)
        XCTAssertTrue(dom.contains("index public.\"&lt;script&gt;alert(1)&lt;/script&gt;\" is missing"))
        let png = folder + "/drill.png"
        try HeadlessBrowser.screenshot(drill, to: png)
        let shot = try HeadlessBrowser.pixels(png, colours: ["#b3261e", "#1e7b34", "#3b6fb6"])
        XCTAssertEqual(shot.width, 1000)
        XCTAssertEqual(shot.height, 1400)
        XCTAssertGreaterThan(shot.counts["#b3261e"] ?? 0, 500, "the red verdict is painted: \(shot.counts)")
        XCTAssertGreaterThan(shot.counts["#3b6fb6"] ?? 0, 2000, "the restore phase's bar is painted: \(shot.counts)")
        // Printable: the whole report on two A4/Letter pages, no more.
        let pages = try HeadlessBrowser.printToPDF(drill, to: folder + "/drill.pdf")
        XCTAssertTrue((1...2).contains(pages), "\(pages) printed pages")

        let entries = try history()
        let target = Target(name: "prod-db", provider: .postgres(PostgresTargetSettings(conninfo: "host=127.0.0.1", repository: "/r")))
        let now = RFC3339.parse("2026-11-26T12:00:00Z")!
        let page = try write(DrillHistoryPage.html([.init(summary: DrillHistorySummary(target: target, entries: entries, last: 10, now: now), entries: entries)],
                                                   generatedAt: now, linkBase: "./"), "history.html")
        let historyDOM = try HeadlessBrowser.dumpDOM(page)
        XCTAssertTrue(historyDOM.contains("within policy"), historyDOM)
        XCTAssertEqual(historyDOM.components(separatedBy: "<tr class=\"drill ").count - 1, 6)
        let historyPNG = folder + "/history.png"
        try HeadlessBrowser.screenshot(page, to: historyPNG)
        let charts = try HeadlessBrowser.pixels(historyPNG, colours: ["#3b6fb6", "#e0a526", "#3f9e5a", "#1e7b34"])
        for (colour, count) in charts.counts { XCTAssertGreaterThan(count, 200, "\(colour) painted: \(charts.counts)") }
    }
}
