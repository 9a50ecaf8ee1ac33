import DRCore
import Foundation

/// `drill-<target>-<id>.html`: one drill's evidence as a page for people — the verdict, the
/// recovery point asked for and reached, the recovery time by phase as a bar, the freshness,
/// the verification with every finding and accepted difference, and what was torn down.
/// A pure function of the report.
public enum DrillPage {
    public static func html(_ report: DrillReport) -> String {
        let e = PageParts.esc
        let verdict = report.verdict.rawValue
        var b = "<header>\n<h1>Restore drill of <code>\(e(report.target))</code></h1>\n"
        b += "<p class=\"sub\">Drill <code>\(e(report.drillID))</code> · provider \(e(report.provider)) · \(e(report.startedAt)) to \(e(report.endedAt))</p>\n"
        b += "<div class=\"banner\"><span class=\"verdict \(verdict)\" id=\"verdict\">\(e(verdict))</span>"
        b += "<span>Recovery time <strong>\(e(PageParts.duration(report.recoverySeconds)))</strong></span>"
        b += "<span>Freshness <strong>\(e(report.freshness.seconds.map { DurationText.format($0) + " before the recovery point" } ?? "not measured"))</strong></span>"
        b += "<span>Verification <strong class=\"\(report.verification.passed ? "ok" : "bad")\">\(report.verification.passed ? "passed" : "failed")</strong></span>"
        b += "<span>Teardown <strong class=\"\(report.teardown.removed ? "ok" : "bad")\">\(report.teardown.removed ? "removed" : "not removed")</strong></span></div>\n"
        if let failure = report.failure { b += "<p class=\"failure\" id=\"failure\">\(e(failure))</p>\n" }
        b += "</header>\n"
        b += pointSection(report) + phaseSection(report) + freshnessSection(report)
        b += verificationSection(report) + teardownSection(report) + stepsSection(report)
        b += "<footer>dr \(e(report.versions.dr)) · PostgreSQL \(e(report.versions.postgres ?? "unknown")) · runbook \(e(report.versions.runbook))"
        b += report.runID.map { " · run <code>\(e($0))</code>" } ?? ""
        b += " · tags " + report.tags.sorted { $0.key < $1.key }.map { "<code>\(e($0.key))=\(e($0.value))</code>" }.joined(separator: " ")
        b += "</footer>\n"
        return PageParts.page(title: "Restore drill of \(report.target): \(verdict)", body: b)
    }

    static func pointSection(_ r: DrillReport) -> String {
        let e = PageParts.esc
        var s = "<section id=\"recovery-point\">\n<h2>Recovery point</h2>\n<dl class=\"facts\">\n"
        s += "<dt>Asked for</dt><dd><code>\(e(r.point.spec))</code>, resolved to \(e(r.point.recoveryPoint))"
        s += r.point.snapshot.map { " (snapshot <code>\(e($0))</code>)" } ?? ""
        s += "</dd>\n<dt>Reached</dt><dd>"
        if let ends = r.freshness.dataEndsAt {
            s += "the restored data ends at \(e(ends))"
            s += r.freshness.seconds.map { ", \(e(DurationText.format($0))) before the recovery point" } ?? ""
        } else {
            s += "not measured"
        }
        s += "</dd>\n<dt>Restored as</dt><dd><code>\(e(r.instance))</code></dd>\n</dl>\n</section>\n"
        return s
    }

    /// The recovery time as one bar: each phase a segment as long as it took.
    static func phaseSection(_ r: DrillReport) -> String {
        let e = PageParts.esc
        var s = "<section id=\"phases\">\n<h2>Recovery time by phase</h2>\n"
        let total = r.phases.compactMap(\.seconds).reduce(0, +)
        let width = 900.0, barY = 8.0, barH = 34.0
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(PageParts.num(width)) 76\" width=\"\(PageParts.num(width))\" height=\"76\" role=\"img\" aria-label=\"Recovery time by phase\">\n"
        s += "<rect x=\"0\" y=\"\(PageParts.num(barY))\" width=\"\(PageParts.num(width))\" height=\"\(PageParts.num(barH))\" fill=\"#eef1f4\"/>\n"
        var x = 0.0
        for phase in r.phases {
            guard let seconds = phase.seconds, total > 0 else { continue }
            let w = max(seconds / total * width, 1)
            s += "<rect x=\"\(PageParts.num(x))\" y=\"\(PageParts.num(barY))\" width=\"\(PageParts.num(w))\" height=\"\(PageParts.num(barH))\" fill=\"\(PageParts.colour(ofPhase: phase.name))\"><title>\(e(phase.name)): \(e(DurationText.format(seconds)))</title></rect>\n"
            if w > 70 {
                s += "<text x=\"\(PageParts.num(x + 6))\" y=\"\(PageParts.num(barY + 22))\" style=\"fill:#fff\">\(e(phase.name)) \(e(DurationText.format(seconds)))</text>\n"
            }
            x += w
        }
        s += "<text x=\"0\" y=\"64\">0</text><text x=\"\(PageParts.num(width))\" y=\"64\" text-anchor=\"end\">\(e(total > 0 ? DurationText.format(total) : "no phase completed"))</text>\n</svg>\n"
        s += PageParts.legend(r.phases.map(\.name))
        s += "<table>\n<thead><tr><th>Phase</th><th>Started</th><th>Ended</th><th class=\"num\">Duration</th></tr></thead>\n<tbody>\n"
        for p in r.phases {
            s += "<tr class=\"phase\"><td><span class=\"\(p.completed ? "ok" : "bad")\">\(p.completed ? "✓" : "✗")</span> \(e(p.name))</td>"
            s += "<td>\(e(p.startedAt ?? "–"))</td><td>\(e(p.endedAt ?? "–"))</td><td class=\"num\">\(e(PageParts.duration(p.seconds)))</td></tr>\n"
        }
        s += "<tr><th>Total</th><td></td><td></td><th class=\"num\">\(e(PageParts.duration(r.recoverySeconds)))</th></tr>\n</tbody>\n</table>\n</section>\n"
        return s
    }

    static func freshnessSection(_ r: DrillReport) -> String {
        let e = PageParts.esc, f = r.freshness
        var s = "<section id=\"freshness\">\n<h2>Freshness</h2>\n<p>"
        if let seconds = f.seconds {
            s += "The restored data ends <strong>\(e(DurationText.format(seconds)))</strong> before the recovery point"
            s += f.dataEndsAt.map { " (newest data \(e($0))" } ?? " ("
            s += f.source.map { ", from \(e($0 == "replay" ? "the last replayed commit" : "the target's freshness query"))" } ?? ""
            s += ")."
        } else {
            s += "Not measured\(f.note.map { ": \(e($0))" } ?? "")."
        }
        return s + "</p>\n</section>\n"
    }

    static func verificationSection(_ r: DrillReport) -> String {
        let e = PageParts.esc, v = r.verification
        var s = "<section id=\"verification\">\n<h2>Verification</h2>\n<p><strong class=\"\(v.passed ? "ok" : "bad")\">\(v.passed ? "Passed" : "Failed")</strong>: "
        s += "\(v.objectsChecked) objects and \(v.tablesCounted) tables checked against the \(e(v.reference ?? "reference")) (rows: \(e(v.rows ?? "–"))); "
        let accepted = v.findings.filter(\.isAccepted).count
        s += "\(v.failures) failing finding\(v.failures == 1 ? "" : "s"), \(accepted) accepted difference\(accepted == 1 ? "" : "s").</p>\n"
        if v.injectedFailure { s += "<p class=\"failure\">\(e(DrillVerify.injectedFinding))</p>\n" }
        if let error = v.error { s += "<p class=\"failure\">Verification did not run to the end: \(e(error))</p>\n" }
        if !v.findings.isEmpty {
            s += "<table id=\"findings\">\n<thead><tr><th>Finding</th><th>Object</th><th>Difference</th><th>Accepted because</th></tr></thead>\n<tbody>\n"
            for f in v.findings {
                s += "<tr class=\"finding \(f.isAccepted ? "accepted" : "failing")\"><td><span class=\"\(f.isAccepted ? "muted" : "bad")\">\(f.isAccepted ? "accepted" : "✗ failing")</span> \(e(f.summary))</td>"
                s += "<td><code>\(e(f.object))</code></td><td>\(e(f.difference.rawValue))</td><td>\(e(f.accepted ?? "–"))</td></tr>\n"
            }
            s += "</tbody>\n</table>\n"
        } else if v.error == nil {
            s += "<p class=\"muted\">No differences.</p>\n"
        }
        return s + "</section>\n"
    }

    static func teardownSection(_ r: DrillReport) -> String {
        let e = PageParts.esc, t = r.teardown
        var s = "<section id=\"teardown\">\n<h2>Torn down</h2>\n<p>"
        if let instance = t.instance {
            s += "<code>\(e(instance))</code>: <strong class=\"\(t.removed ? "ok" : "bad")\">\(t.removed ? "removed" : "NOT removed")</strong>"
            s += t.seconds.map { " in \(e(DurationText.format($0)))" } ?? ""
            s += t.error.map { ": \(e($0))" } ?? ""
            s += "."
        } else {
            s += "Nothing was restored, so there was nothing to tear down."
        }
        return s + "</p>\n</section>\n"
    }

    static func stepsSection(_ r: DrillReport) -> String {
        let e = PageParts.esc
        var s = "<section id=\"steps\">\n<h2>Runbook steps</h2>\n<table>\n<thead><tr><th>Step</th><th>Procedure</th><th>Outcome</th><th class=\"num\">Duration</th></tr></thead>\n<tbody>\n"
        for step in r.steps {
            s += "<tr><td><code>\(e(step.id))</code></td><td>\(e(step.uses))</td><td>\(e(step.outcome))\(step.error.map { ": \(e($0))" } ?? "")</td><td class=\"num\">\(e(PageParts.duration(step.seconds)))</td></tr>\n"
        }
        return s + "</tbody>\n</table>\n</section>\n"
    }
}
