import ArgumentParser
import DRCore
import Foundation

/// Where output goes: results on stdout, progress and errors on stderr (DESIGN.md, "Output").
public enum Terminal {
    /// True when stderr is a terminal and colour is welcome (`NO_COLOR` is honoured).
    public static var stderrIsInteractive: Bool { isatty(STDERR_FILENO) == 1 }
    public static var stdoutIsInteractive: Bool { isatty(STDOUT_FILENO) == 1 }
    public static var useColor: Bool { colorWelcome && stdoutIsInteractive }
    /// The same for what goes to stderr (progress).
    public static var useColorOnStderr: Bool { colorWelcome && stderrIsInteractive }

    /// `NO_COLOR` (any value) and `TERM=dumb` turn colour off.
    static var colorWelcome: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }

    public static func error(_ message: String) {
        WaitProgressReporter.finish()
        writeStderr("dr: error: \(message)\n")
    }

    public static func info(_ message: String) {
        writeStderr(message + "\n")
    }

    /// Everything dr prints passes here, so every secret in play is masked in every encoding
    /// (`Redact.secrets(in:)`): stderr (errors, progress, logs) and stdout (text and JSON results).
    public static func writeStderr(_ s: String) {
        FileHandle.standardError.write(Data(Redact.secrets(in: s).utf8))
    }

    public static func writeStdout(_ s: String) {
        FileHandle.standardOutput.write(Data(Redact.secrets(in: s).utf8))
    }

    /// Wraps `text` in an ANSI colour when colour is on.
    public static func paint(_ text: String, _ code: String) -> String { useColor ? colored(text, code) : text }

    /// The same for text that goes to stderr (progress).
    public static func paintStderr(_ text: String, _ code: String) -> String { useColorOnStderr ? colored(text, code) : text }

    static func colored(_ text: String, _ code: String) -> String { "\u{1B}[\(code)m\(text)\u{1B}[0m" }
}

/// `--output text|json|junit`.
public enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    case text, json, junit, prometheus, html
}
