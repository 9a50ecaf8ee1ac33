import DRCore
import Foundation
import DRRunbookEngine

/// `wait`: sleeps through the clock for `duration`, or until `until`.
/// A re-entered wait only waits for what is left of the original one.
public struct WaitProcedure: ProcedureExecutor {
    public var clock: DRClock

    public init(clock: DRClock) { self.clock = clock }

    func deadline(_ call: ResolvedCall, startedAt: Date) throws -> Date {
        switch (call.duration("duration"), call.time("until")) {
        case (let d?, nil): return startedAt.addingTimeInterval(d)
        case (nil, let t?): return t
        default:
            throw DRError.badInput("Step '\(call.stepID)': wait needs exactly one of `duration` (such as 5m) or `until` (an RFC 3339 time).")
        }
    }

    public func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        if let pending = call.pending["duration"] ?? call.pending["until"] {
            return [PlannedAction("wait (\(pending))", mutates: false)]
        }
        if let d = call.duration("duration") { return [PlannedAction("wait \(DurationText.compact(d))", mutates: false)] }
        return [PlannedAction("wait until \(RFC3339.format(try deadline(call, startedAt: clock.now())))", mutates: false)]
    }

    public func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let until = try deadline(call, startedAt: context.attemptStartedAt)
        let left = until.timeIntervalSince(clock.now())
        if left > 0 { try await clock.sleep(seconds: left) }
        return ["until": .time(until)]
    }
}
