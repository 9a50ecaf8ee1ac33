import ArgumentParser
import DRAWS
import DRCore
import DRProcedures
import Foundation

/// `--no-wait` and `--timeout` for commands that wait on AWS (and the self-hosted restore).
struct WaitOptions: ParsableArguments {
    @Flag(name: .customLong("no-wait"), help: "Return once the request is accepted instead of waiting for it to finish (rds).")
    var noWait = false

    @Option(help: "Seconds to wait before giving up (exit 4); default per operation (e.g. restore 4 h, DNS 10 min).")
    var timeout: Double?

    func validate() throws {
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds.") }
    }

    /// The RDS wait settings, reporting progress on stderr: one updating line on a terminal,
    /// plain log lines otherwise.
    var settings: WaitSettings {
        WaitSettings(timeout: timeout, noWait: noWait, progress: WaitProgressReporter.report)
    }

    /// Applies these options to whichever backend `provider` is.
    func apply(to provider: RecoveryProvider) -> RecoveryProvider {
        if var rds = provider as? RDSProvider {
            rds.wait = settings
            return rds
        }
        if let timeout, var selfHosted = provider as? SelfHostedProvider {
            selfHosted.restoreTimeout = timeout
            return selfHosted
        }
        return provider
    }
}

enum WaitProgressReporter {
    @Sendable static func report(_ p: WaitProgress) {
        let text = "waiting for \(p.waitingFor): \(p.state ?? "unknown") (\(DurationText.format(p.elapsed)))"
        if Terminal.stderrIsInteractive {
            Terminal.writeStderr("\r\u{1B}[2K" + text)
        } else {
            Terminal.info("dr: " + text)
        }
    }

    /// Ends the updating line on a terminal.
    static func finish() { if Terminal.stderrIsInteractive { Terminal.writeStderr("\n") } }
}
