import DRCore
import Foundation

/// How long a command may still take (`timeout`), read by every request and every wait made
/// within it: each attempt's time limit is what is left of the budget (never more than the
/// client's own per-attempt limit), a retry whose delay would outlast it is not made, a wait
/// polls no longer than the budget allows, and when the budget is gone the command stops with a
/// timeout (exit 4) naming what it was waiting for.
///
/// The budget travels with the task (a task-local value), so it reaches every client and
/// waiter a procedure uses without being passed down:
///
///     try await TimeBudget(seconds: 30).run { try await procedure() }
public struct TimeBudget: Sendable {
    /// The whole budget, for messages.
    public let seconds: Double
    public let deadline: Date
    let clock: any DRClock

    public init(seconds: Double, clock: any DRClock = SystemClock()) {
        self.seconds = seconds
        self.clock = clock
        self.deadline = clock.now().addingTimeInterval(seconds)
    }

    /// Seconds left (negative once the deadline has passed).
    public var remaining: Double { deadline.timeIntervalSince(clock.now()) }

    /// Less than this is no time at all: an attempt cut short by the budget ends a hair before it.
    static let slack = 0.05

    public var isExhausted: Bool { remaining <= Self.slack }

    /// The budget of the task this code runs in, if its caller set one.
    @TaskLocal public static var current: TimeBudget?

    /// Runs `body` within this budget, or within the caller's if that ends sooner.
    public func run<T>(_ body: () async throws -> T) async rethrows -> T {
        if let outer = Self.current, outer.deadline <= deadline { return try await body() }
        return try await Self.$current.withValue(self) { try await body() }
    }

    /// The error that ends a command whose budget is gone.
    func exhausted(waitingFor: String, lastError: String?) -> TimeBudgetExhausted {
        TimeBudgetExhausted(seconds: seconds, waitingFor: waitingFor, lastError: lastError)
    }
}

/// A command's `timeout` ran out while it waited for `waitingFor`. A timeout: exit 4.
public struct TimeBudgetExhausted: Error, Sendable, Equatable, CustomStringConvertible {
    public var seconds: Double
    /// `an answer from RDS DescribeDBSnapshots`, `DB snapshot x to be available (last state "creating")`.
    public var waitingFor: String
    /// What the last attempt ran into, if one failed (already free of secrets).
    public var lastError: String?

    public var text: ErrorText {
        let last = lastError.map { " (\($0))" } ?? ""
        return "Stopped after \(DurationText.format(seconds)), the \(param: .timeout) given, while waiting for \(waitingFor)\(last). What was already asked of AWS goes on; run the same command again to pick it up, or give it a longer \(param: .timeout)."
    }

    public var description: String { text.description }
    public var drError: DRError { DRError(.timedOut, text) }
}
