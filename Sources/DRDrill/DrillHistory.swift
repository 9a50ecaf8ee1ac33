import DRCore
import DRProcedures
import Foundation
import DRRunbook
import DRRunbookEngine

/// The append-only history of a target's drills: one JSON line per drill in
/// `HISTORY/<target>.jsonl`. A line cut short by a crash is skipped when read.
public struct DrillHistory: Sendable {
    public struct Entry: Sendable, Codable, Equatable {
        public var drillID: String
        public var target: String
        public var startedAt: String
        public var endedAt: String
        public var verdict: DrillReport.Verdict
        public var point: String
        public var recoverySeconds: Double?
        public var phases: [String: Double]
        public var freshnessSeconds: Double?
        public var findings: Int
        public var failure: String?
        /// The drill's page (`drill-<target>-<id>.html`), for the history page's links; nil in older lines.
        public var page: String?
        enum CodingKeys: String, CodingKey {
            case drillID = "drill_id", target, startedAt = "started_at", endedAt = "ended_at", verdict, point
            case recoverySeconds = "recovery_seconds", phases, freshnessSeconds = "freshness_seconds", findings, failure, page
        }

        public init(_ report: DrillReport, page: String? = nil) {
            drillID = report.drillID
            target = report.target
            startedAt = report.startedAt
            endedAt = report.endedAt
            verdict = report.verdict
            point = report.point.recoveryPoint
            recoverySeconds = report.recoverySeconds
            phases = Dictionary(report.phases.compactMap { p in p.seconds.map { (p.name, $0) } }) { a, _ in a }
            freshnessSeconds = report.freshness.seconds
            findings = report.verification.failures
            failure = report.failure
            self.page = page
        }

        var ended: Date? { RFC3339.parse(endedAt) }
    }

    public var directory: String

    public init(directory: String) { self.directory = directory }

    public func path(_ target: String) -> String { "\(directory)/\(DrillEvidence.fileSafe(target)).jsonl" }

    public func append(_ entry: Entry) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Redact.secrets(in: try encoder.encode(entry)) + Data("\n".utf8)
        let fd = open(path(entry.target), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DRError.problem("Cannot append to the drill history \(path(entry.target)): \(String(cString: strerror(errno))).") }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw DRError.problem("Cannot append to the drill history \(path(entry.target)): \(String(cString: strerror(errno))).")
        }
    }

    /// Every drill of the target, oldest first.
    public func entries(_ target: String) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path(target)) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(Entry.self, from: Data($0)) }
    }

    /// When the target last passed a drill.
    public func lastSuccess(_ target: String) -> Date? {
        entries(target).last { $0.verdict == .passed }?.ended
    }
}

/// `dr drill history TARGET`: the last drills, the last success, trends, and the policy check.
public struct DrillHistorySummary: Sendable, Encodable {
    public struct Trend: Sendable, Encodable, Equatable {
        /// Mean of the newest (up to 5) values and of the (up to 5) before them.
        public var recent: Double?
        public var previous: Double?
        /// `rising`, `falling`, `steady`, or `not enough drills`.
        public var direction: String
    }

    public var target: String
    public var drills: [DrillHistory.Entry]
    public var total: Int
    public var lastSuccess: String?
    public var maxAge: Double?
    public var recoveryTrend: Trend
    public var freshnessTrend: Trend
    public var warning: String?

    enum CodingKeys: String, CodingKey {
        case target, drills, total, lastSuccess = "last_success", maxAge = "max_age_seconds"
        case recoveryTrend = "recovery_seconds_trend", freshnessTrend = "freshness_seconds_trend", warning
    }

    /// The policy's default when a target declares no `drill.max_age`: a drill a week.
    public static let defaultMaxAge: Double = 7 * 86_400

    public init(target: Target, entries: [DrillHistory.Entry], last: Int, now: Date) {
        self.target = target.name
        drills = Array(entries.suffix(last))
        total = entries.count
        let success = entries.last { $0.verdict == .passed }
        lastSuccess = success?.endedAt
        let maxAge = target.drill?.maxAge ?? Self.defaultMaxAge
        self.maxAge = maxAge
        let passed = entries.filter { $0.verdict == .passed }
        recoveryTrend = Self.trend(passed.compactMap(\.recoverySeconds))
        freshnessTrend = Self.trend(passed.compactMap(\.freshnessSeconds))
        if let ended = success?.ended {
            let age = now.timeIntervalSince(ended)
            if age > maxAge {
                warning = "The last passed drill of \(target.name) ended \(DurationText.format(age)) ago (\(success!.endedAt)), longer than its policy allows (drill.max_age \(DurationText.compact(maxAge))). Run `dr drill \(target.name)` and check the scheduler."
            }
        } else {
            warning = "\(target.name) has never passed a restore drill\(entries.isEmpty ? "" : " (\(entries.count) failed)"); its policy asks for one every \(DurationText.compact(maxAge)). Run `dr drill \(target.name)`."
        }
    }

    static func trend(_ values: [Double]) -> Trend {
        let recent = values.suffix(5), previous = values.dropLast(recent.count).suffix(5)
        func mean<C: Collection>(_ c: C) -> Double? where C.Element == Double { c.isEmpty ? nil : c.reduce(0, +) / Double(c.count) }
        guard let r = mean(recent), let p = mean(previous) else {
            return Trend(recent: mean(recent), previous: nil, direction: "not enough drills")
        }
        let change = p == 0 ? (r == 0 ? 0 : 1) : (r - p) / p
        return Trend(recent: r, previous: p, direction: change > 0.1 ? "rising" : change < -0.1 ? "falling" : "steady")
    }

    public var text: String {
        var out = "Drills of \(target): \(total) recorded; last success: \(lastSuccess ?? "never")\n"
        for d in drills.reversed() {
            out += "  \(d.verdict == .passed ? "✓" : "✗") \(d.endedAt)  \(d.verdict.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0))"
            out += " recovery \(d.recoverySeconds.map(DurationText.format) ?? "-")  freshness \(d.freshnessSeconds.map(DurationText.format) ?? "-")"
            if let f = d.failure { out += "  — \(f.count > 100 ? String(f.prefix(97)) + "..." : f)" }
            out += "\n"
        }
        func show(_ t: Trend) -> String {
            guard let r = t.recent else { return "no passed drills" }
            return "\(t.direction) (mean of the last 5 passed: \(DurationText.format(r))\(t.previous.map { "; of the 5 before: \(DurationText.format($0))" } ?? ""))"
        }
        out += "Recovery time: \(show(recoveryTrend))\nFreshness: \(show(freshnessTrend))\n"
        if let warning { out += "WARNING: \(warning)\n" }
        return out
    }
}
