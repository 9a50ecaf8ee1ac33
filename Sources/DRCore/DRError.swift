/// The one error type that crosses module boundaries on its way to the command line.
///
/// Every error names its category, and the category alone decides the exit code
/// (see `ExitStatus`). The message is one paragraph that names the problem and the fix;
/// it never holds a secret — build it from values that are already redacted.
public struct DRError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Category: String, Sendable, Codable {
        /// The work ran and found a problem (verification mismatch, drill failed). Exit 1.
        case problemFound
        /// Bad input: arguments, config, runbook, timestamps, unreachable database. Nothing changed. Exit 2.
        case badInput
        /// A remote error that survived retries. Exit 3.
        case remote
        /// A wait timed out. Exit 4.
        case timedOut
        /// Interrupted by a signal (Ctrl-C). Exit 130.
        case interrupted
    }

    public var category: Category
    public var message: String

    public init(_ category: Category, _ message: String) {
        self.category = category
        self.message = message
    }

    public static func badInput(_ message: String) -> DRError { DRError(.badInput, message) }
    public static func remote(_ message: String) -> DRError { DRError(.remote, message) }
    public static func timedOut(_ message: String) -> DRError { DRError(.timedOut, message) }
    public static func problem(_ message: String) -> DRError { DRError(.problemFound, message) }
    public static let interrupted = DRError(.interrupted, "Interrupted.")

    public var exitStatus: ExitStatus { ExitStatus(category) }
    public var description: String { message }
}

/// The project's one table of exit codes (DESIGN.md, "Contracts").
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    case problemFound = 1
    case badInput = 2
    case remote = 3
    case timedOut = 4
    case interrupted = 130

    public init(_ category: DRError.Category) {
        switch category {
        case .problemFound: self = .problemFound
        case .badInput: self = .badInput
        case .remote: self = .remote
        case .timedOut: self = .timedOut
        case .interrupted: self = .interrupted
        }
    }
}
