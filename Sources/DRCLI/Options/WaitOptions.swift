import ArgumentParser
import DRAWS
import DRCore
import DRProcedures
import Foundation

/// `--no-wait` and `--timeout` for commands that wait on AWS (and the self-hosted restore).
struct WaitOptions: ParsableArguments {
    @Flag(name: .customLong("no-wait"), help: "rds: return once the request is accepted instead of waiting for it to finish.")
    var noWait = false

    @Option(help: "Seconds to wait before giving up (exit 4); default per operation (e.g. restore 4 h, DNS 10 min).")
    var timeout: Double?

    func validate() throws {
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds.") }
    }

    /// The wait settings every backend gets, reporting progress on stderr: one updating line on
    /// a terminal, plain log lines otherwise.
    var settings: WaitSettings {
        WaitSettings(timeout: timeout, noWait: noWait, progress: WaitProgressReporter.report)
    }

}

/// Progress of long waits on stderr (DESIGN.md, "Output"): on a terminal one line that updates
/// in place, the state in colour unless `NO_COLOR`; otherwise a plain log line per poll.
enum WaitProgressReporter {
    /// True while the in-place line is on screen and wants a newline before other output.
    private static let lineOpen = LockedFlag()

    @Sendable static func report(_ p: WaitProgress) {
        show(waitingFor: p.waitingFor, state: p.state ?? "unknown", elapsed: p.elapsed)
    }

    @Sendable static func show(waitingFor: String, state: String, elapsed seconds: Double) {
        let elapsed = DurationText.format(seconds)
        if Terminal.stderrIsInteractive {
            Terminal.writeStderr("\r\u{1B}[2Kwaiting for \(waitingFor): \(Terminal.paintStderr(state, "1;33")) (\(elapsed))")
            lineOpen.set(true)
        } else {
            Terminal.info("dr: waiting for \(waitingFor): \(state) (\(elapsed))")
        }
    }

    /// Ends the updating line on a terminal, once.
    static func finish() { if lineOpen.set(false) { Terminal.writeStderr("\n") } }
}

/// A flag shared by the progress reporter's callers.
final class LockedFlag: @unchecked Sendable {  // `value` is only touched under `lock`
    private let lock = NSLock()
    private var value = false

    /// Sets the flag and returns what it was.
    @discardableResult
    func set(_ new: Bool) -> Bool { lock.withLock { defer { value = new }; return value } }
}
