import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Long waits show progress: on a terminal one line updating in place with the elapsed time
/// and the current state (in colour unless NO_COLOR), plain log lines otherwise (DESIGN.md,
/// "Output"). moto makes everything available at once, so the fault proxy reports the restored
/// instance as `creating` on the first poll; the waiter polls again 5 s later and sees it available.
final class WaitProgressTerminalTests: XCTestCase {
    func testARestoreWaitShowsElapsedTimeAndStateOnATerminalAndLogLinesOtherwise() async throws {
        let id = MotoCLI.newID()
        let (tty, plain, noColor) = ("\(id)-tty", "\(id)-plain", "\(id)-nocolor")
        let proxy = try FaultProxy(upstream: try Moto.url(),
                                   reportStates: [tty: ("creating", 1), plain: ("creating", 1), noColor: ("creating", 1)])
        defer { proxy.stop() }
        let m = try MotoCLI.make(id: id, endpoint: proxy.url)
        // Three databases (one lock per database: restores of one would wait for each other).
        let config = m.dir + "/dr.yml"
        var yaml = "targets:\n"
        for n in 1...3 {
            try await m.createInstance("\(id)-db\(n)")
            yaml += "  prod\(n):\n    provider: rds\n    region: us-east-1\n    instance: \(id)-db\(n)\n"
        }
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let restore = [tty, plain, noColor].enumerated().map { ["restore", "prod\($0.offset + 1)", "--latest-restorable", "--as", $0.element, "--config", config, "--timeout", "60"] }

        // The three at once: each waits about 5 s.
        async let onTerminal = DRBinary.runOnTerminal(restore[0], environment: m.env, noColor: false)
        async let piped = DRBinary.runConcurrently(restore[1], environment: m.env)
        async let onTerminalNoColor = DRBinary.runOnTerminal(restore[2], environment: m.env, noColor: true)
        let (terminal, log, bare) = try await (onTerminal, piped, onTerminalNoColor)

        // On a terminal: the line is redrawn in place (carriage return, erase line), the state coloured.
        XCTAssertEqual(terminal.status, 0, terminal.stdout)
        let line = "\r\u{1B}[2Kwaiting for DB instance \(tty) to be available: "
        XCTAssertTrue(terminal.stdout.contains(line + "\u{1B}[1;33mcreating\u{1B}[0m ("), terminal.stdout)
        XCTAssertGreaterThanOrEqual(try elapsed(after: line + "\u{1B}[1;33mavailable\u{1B}[0m (", in: terminal.stdout), 4.5)
        XCTAssertFalse(terminal.stdout.contains("dr: waiting for"), "no log lines on a terminal: \(terminal.stdout)")
        XCTAssertTrue(terminal.stdout.contains("s)\r\nRestored prod1 as \(tty)"), "the line ends before the result: \(terminal.stdout)")

        // Not a terminal: one plain log line per poll on stderr, no control characters.
        XCTAssertEqual(log.status, 0, log.stderr)
        XCTAssertTrue(log.stderr.contains("dr: waiting for DB instance \(plain) to be available: creating ("), log.stderr)
        XCTAssertGreaterThanOrEqual(try elapsed(after: "dr: waiting for DB instance \(plain) to be available: available (", in: log.stderr), 4.5)
        XCTAssertFalse(log.stderr.contains("\u{1B}") || log.stderr.contains("\r"), log.stderr)
        XCTAssertTrue(log.stdout.hasPrefix("Restored prod2 as \(plain)"), log.stdout)

        // NO_COLOR on a terminal: the same updating line, without colour codes.
        XCTAssertEqual(bare.status, 0, bare.stdout)
        let bareLine = "\r\u{1B}[2Kwaiting for DB instance \(noColor) to be available: "
        XCTAssertTrue(bare.stdout.contains(bareLine + "creating ("), bare.stdout)
        XCTAssertGreaterThanOrEqual(try elapsed(after: bareLine + "available (", in: bare.stdout), 4.5)
        XCTAssertNil(bare.stdout.range(of: "\u{1B}\\[[0-9;]*m", options: .regularExpression), "no colour codes under NO_COLOR: \(bare.stdout)")
    }

    /// The seconds shown right after `prefix` (`4.9s)`).
    func elapsed(after prefix: String, in text: String) throws -> Double {
        let start = try XCTUnwrap(text.range(of: prefix), "\(prefix.debugDescription) not in \(text.debugDescription)").upperBound
        let shown = text[start...].prefix { $0.isNumber || $0 == "." }
        return try XCTUnwrap(Double(shown), "no seconds after \(prefix.debugDescription)")
    }
}
