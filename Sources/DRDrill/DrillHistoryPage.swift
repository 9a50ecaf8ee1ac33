import DRCore
import DRVerify
import Foundation

/// `dr drill history TARGET --output html` (and `--all`): per target, the recovery time by
/// phase over time and the freshness over time as SVG charts, pass/fail marks, the last
/// success and its age against the policy, and a link to each drill's page. A pure function
/// of the history records.
public enum DrillHistoryPage {
    /// One target's part of the page.
    public struct Section: Sendable {
        public var summary: DrillHistorySummary
        /// Every drill of the target, oldest first (the charts show them all; the table the newest `summary.drills`).
        public var entries: [DrillHistory.Entry]
        public init(summary: DrillHistorySummary, entries: [DrillHistory.Entry]) {
            self.summary = summary
            self.entries = entries
        }
    }

    /// Where links to drill pages point: `linkBase` + the page's file name when given
    /// (`./`, `https://reports.example/dr/`), else the page's own path as a `file:` URL.
    public static func html(_ sections: [Section], generatedAt: Date, linkBase: String? = nil) -> String {
        let e = PageParts.esc
        var b = "<header>\n<h1>Restore drills</h1>\n<p class=\"sub\">\(sections.count) target\(sections.count == 1 ? "" : "s") · generated \(e(RFC3339.format(generatedAt)))</p>\n"
        b += "<table id=\"overview\">\n<thead><tr><th>Target</th><th>Status</th><th>Last success</th><th class=\"num\">Age</th><th class=\"num\">Policy</th><th class=\"num\">Drills</th></tr></thead>\n<tbody>\n"
        for section in sections {
            let s = section.summary
            b += "<tr><td><a href=\"#target-\(e(anchor(s.target)))\">\(e(s.target))</a></td><td>\(status(s))</td><td>\(e(s.lastSuccess ?? "never"))</td>"
            b += "<td class=\"num\">\(e(age(s, now: generatedAt)))</td><td class=\"num\">\(e(s.maxAge.map(DurationText.compact) ?? "–"))</td><td class=\"num\">\(s.total)</td></tr>\n"
        }
        b += "</tbody>\n</table>\n</header>\n"
        for section in sections { b += targetSection(section, now: generatedAt, linkBase: linkBase) }
        b += "<footer>dr \(e(ToolInfo.version)) · recovery time: restore requested to verification done · freshness: how far before the recovery point the restored data ends</footer>\n"
        let title = sections.count == 1 ? "Restore drills of \(sections[0].summary.target)" : "Restore drills"
        return PageParts.page(title: title, body: b)
    }

    static func anchor(_ target: String) -> String {
        String(target.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    static func status(_ s: DrillHistorySummary) -> String {
        if s.lastSuccess == nil { return "<span class=\"badge bad\">never passed</span>" }
        return s.warning == nil ? "<span class=\"badge ok\">within policy</span>" : "<span class=\"badge bad\">overdue</span>"
    }

    static func age(_ s: DrillHistorySummary, now: Date) -> String {
        guard let last = s.lastSuccess.flatMap(RFC3339.parse) else { return "–" }
        return DurationText.format(now.timeIntervalSince(last))
    }

    static func link(_ entry: DrillHistory.Entry, base: String?) -> String? {
        guard let page = entry.page else { return nil }
        let name = URL(fileURLWithPath: page).lastPathComponent
        if let base { return base + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name) }
        return URL(fileURLWithPath: page).absoluteString
    }

    static func targetSection(_ section: Section, now: Date, linkBase: String?) -> String {
        let e = PageParts.esc, s = section.summary
        var b = "<section class=\"target\" id=\"target-\(e(anchor(s.target)))\">\n<h2>\(e(s.target)) \(status(s))</h2>\n"
        b += "<dl class=\"facts\">\n<dt>Last success</dt><dd>\(e(s.lastSuccess ?? "never"))"
        if s.lastSuccess != nil { b += ", \(e(age(s, now: now))) ago" }
        b += "</dd>\n<dt>Policy</dt><dd>a passed drill at least every \(e(s.maxAge.map(DurationText.compact) ?? "–"))</dd>\n"
        b += "<dt>Drills</dt><dd>\(s.total) recorded, \(section.entries.filter { $0.verdict == .passed }.count) passed</dd>\n</dl>\n"
        if let warning = s.warning { b += "<p class=\"failure\">\(e(warning))</p>\n" }
        if section.entries.isEmpty { return b + "<p class=\"muted\">No drill recorded yet.</p>\n</section>\n" }
        b += "<h3>Recovery time by phase</h3>\n" + recoveryChart(section.entries) + PageParts.legend(phaseNames(section.entries))
        b += "<h3>Freshness</h3>\n" + freshnessChart(section.entries)
        b += "<h3>Drills</h3>\n<table class=\"drills\">\n<thead><tr><th></th><th>Ended</th><th>Verdict</th><th>Point</th><th class=\"num\">Recovery</th><th class=\"num\">Freshness</th><th class=\"num\">Findings</th><th>Report</th></tr></thead>\n<tbody>\n"
        for d in s.drills.reversed() {
            let passed = d.verdict == .passed
            b += "<tr class=\"drill \(e(d.verdict.rawValue))\"><td class=\"\(passed ? "ok" : "bad")\">\(passed ? "✓" : "✗")</td><td>\(e(d.endedAt))</td><td>\(e(d.verdict.rawValue))"
            if let f = d.failure { b += "<br/><span class=\"muted\">\(e(f.count > 160 ? String(f.prefix(157)) + "..." : f))</span>" }
            b += "</td><td>\(e(d.point))</td><td class=\"num\">\(e(PageParts.duration(d.recoverySeconds)))</td><td class=\"num\">\(e(PageParts.duration(d.freshnessSeconds)))</td><td class=\"num\">\(d.findings)</td>"
            b += "<td>\(link(d, base: linkBase).map { "<a href=\"\(e($0))\">\(e(d.drillID))</a>" } ?? "<span class=\"muted\">\(e(d.drillID))</span>")</td></tr>\n"
        }
        return b + "</tbody>\n</table>\n</section>\n"
    }

    /// The phases in the order drills report them (restore, connect, verify), then any others.
    static func phaseNames(_ entries: [DrillHistory.Entry]) -> [String] {
        let standard = ["restore", "connect", "verify"]
        let others = Set(entries.flatMap(\.phases.keys)).subtracting(standard).sorted()
        return standard.filter { name in entries.contains { $0.phases[name] != nil } } + others
    }

    // MARK: Charts

    static let chartWidth = 900.0, chartHeight = 220.0
    static let left = 64.0, right = 12.0, top = 12.0, bottom = 44.0

    /// A nice round top for an axis from 0 to `maxValue`.
    static func axisTop(_ maxValue: Double) -> Double {
        guard maxValue > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(maxValue)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= maxValue { return step * magnitude }
        return 10 * magnitude
    }

    /// The frame, gridlines and labels; `x` of drill `i` of `n` is the middle of its slot.
    static func frame(maxValue: Double, entries: [DrillHistory.Entry], label: String) -> (svg: String, y: (Double) -> Double, x: (Int) -> Double, slot: Double) {
        let plotW = chartWidth - left - right, plotH = chartHeight - top - bottom
        let topValue = axisTop(maxValue)
        let n = max(entries.count, 1)
        let slot = plotW / Double(n)
        let y: (Double) -> Double = { top + plotH - min($0, topValue) / topValue * plotH }
        let x: (Int) -> Double = { left + slot * (Double($0) + 0.5) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(PageParts.num(chartWidth)) \(PageParts.num(chartHeight))\" width=\"\(PageParts.num(chartWidth))\" height=\"\(PageParts.num(chartHeight))\" role=\"img\" aria-label=\"\(PageParts.esc(label))\">\n"
        for i in 0...4 {
            let v = topValue * Double(i) / 4
            s += "<line x1=\"\(PageParts.num(left))\" x2=\"\(PageParts.num(chartWidth - right))\" y1=\"\(PageParts.num(y(v)))\" y2=\"\(PageParts.num(y(v)))\" stroke=\"#d8dde4\"/>"
            s += "<text x=\"\(PageParts.num(left - 6))\" y=\"\(PageParts.num(y(v) + 4))\" text-anchor=\"end\">\(PageParts.esc(i == 0 ? "0" : DurationText.format(v)))</text>\n"
        }
        // Dates under every `every`-th drill, so the labels never overlap.
        let every = max(1, Int((Double(n) * 90 / plotW).rounded(.up)))
        // Drills all on one day are told apart by their time (UTC), others by their date.
        let oneDay = Set(entries.map { $0.endedAt.prefix(10) }).count == 1
        for (i, entry) in entries.enumerated() where i % every == 0 {
            let label = oneDay ? String(entry.endedAt.dropFirst(11).prefix(8)) : String(entry.endedAt.prefix(10))
            s += "<text x=\"\(PageParts.num(x(i)))\" y=\"\(PageParts.num(chartHeight - bottom + 16))\" text-anchor=\"middle\">\(PageParts.esc(label))</text>\n"
        }
        return (s, y, x, slot)
    }

    /// Pass/fail marks under the plot: a green tick or a red cross per drill.
    static func marks(_ entries: [DrillHistory.Entry], x: (Int) -> Double) -> String {
        var s = ""
        let my = chartHeight - 12
        for (i, d) in entries.enumerated() {
            let cx = PageParts.num(x(i))
            if d.verdict == .passed {
                s += "<circle class=\"mark passed\" cx=\"\(cx)\" cy=\"\(PageParts.num(my))\" r=\"5\" fill=\"#1e7b34\"><title>\(PageParts.esc(d.endedAt)): passed</title></circle>\n"
            } else {
                s += "<path class=\"mark \(PageParts.esc(d.verdict.rawValue))\" d=\"M\(PageParts.num(x(i) - 5)) \(PageParts.num(my - 5))l10 10m0 -10l-10 10\" stroke=\"#b3261e\" stroke-width=\"2.5\"><title>\(PageParts.esc(d.endedAt)): \(PageParts.esc(d.verdict.rawValue))</title></path>\n"
            }
        }
        return s
    }

    /// One stacked bar per drill: its phases, bottom to top.
    static func recoveryChart(_ entries: [DrillHistory.Entry]) -> String {
        let phases = phaseNames(entries)
        let maxValue = entries.map { e in phases.compactMap { e.phases[$0] }.reduce(0, +) }.max() ?? 0
        let f = frame(maxValue: maxValue, entries: entries, label: "Recovery time by phase over time")
        var s = f.svg
        let barW = min(f.slot * 0.7, 48)
        for (i, entry) in entries.enumerated() {
            var base = 0.0
            for phase in phases {
                guard let seconds = entry.phases[phase], seconds > 0 else { continue }
                let y0 = f.y(base), y1 = f.y(base + seconds)
                s += "<rect class=\"bar\" x=\"\(PageParts.num(f.x(i) - barW / 2))\" y=\"\(PageParts.num(y1))\" width=\"\(PageParts.num(barW))\" height=\"\(PageParts.num(max(y0 - y1, 0.5)))\" fill=\"\(PageParts.colour(ofPhase: phase))\"><title>\(PageParts.esc(entry.endedAt)) \(PageParts.esc(phase)): \(PageParts.esc(DurationText.format(seconds)))</title></rect>\n"
                base += seconds
            }
        }
        return s + marks(entries, x: f.x) + "</svg>\n"
    }

    /// Freshness per drill as a line through the drills that measured it.
    static func freshnessChart(_ entries: [DrillHistory.Entry]) -> String {
        let values = entries.compactMap(\.freshnessSeconds)
        let f = frame(maxValue: values.map { max($0, 0) }.max() ?? 0, entries: entries, label: "Freshness over time")
        var s = f.svg
        let points = entries.enumerated().compactMap { i, e in e.freshnessSeconds.map { (i, max($0, 0), e) } }
        if points.count > 1 {
            s += "<polyline fill=\"none\" stroke=\"#3b6fb6\" stroke-width=\"2\" points=\"" + points.map { "\(PageParts.num(f.x($0.0))),\(PageParts.num(f.y($0.1)))" }.joined(separator: " ") + "\"/>\n"
        }
        for (i, v, e) in points {
            s += "<circle class=\"point\" cx=\"\(PageParts.num(f.x(i)))\" cy=\"\(PageParts.num(f.y(v)))\" r=\"4\" fill=\"#3b6fb6\"><title>\(PageParts.esc(e.endedAt)): \(PageParts.esc(DurationText.format(v)))</title></circle>\n"
        }
        if points.isEmpty {
            s += "<text x=\"\(PageParts.num(chartWidth / 2))\" y=\"\(PageParts.num(chartHeight / 2))\" text-anchor=\"middle\">no drill measured freshness</text>\n"
        }
        return s + marks(entries, x: f.x) + "</svg>\n"
    }
}
