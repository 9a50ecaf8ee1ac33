import DRCore
import Foundation

/// A wait as data (soto-core's waiters are the model): poll an operation until an acceptor
/// matches. Success and failure acceptors end the wait; retry acceptors (and no match) poll
/// again after a delay that starts at `minDelay` and doubles up to `maxDelay`, never past the
/// deadline.
public struct Waiter<Output: Sendable>: Sendable {
    public enum State: String, Sendable { case success, failure, retry }

    public enum Matcher: Sendable {
        /// The output's state (from `Waiter.state`) is one of these values.
        case state([String])
        /// A predicate on the output.
        case output(@Sendable (Output) -> Bool)
        /// The call failed with this AWS error code.
        case errorCode(String)
        /// The call failed with a "not found" error (success for deletion waits).
        case notFound
    }

    public struct Acceptor: Sendable {
        public var state: State
        public var matcher: Matcher
        public init(_ state: State, _ matcher: Matcher) {
            self.state = state
            self.matcher = matcher
        }
    }

    /// What is being waited for, for messages: `DB instance prod-db-pitr to be available`.
    public var name: String
    public var acceptors: [Acceptor]
    /// The current state of the resource, for progress and messages.
    public var state: @Sendable (Output) -> String?
    public var minDelay: Double
    public var maxDelay: Double
    public var timeout: Double

    public init(name: String, acceptors: [Acceptor], state: @escaping @Sendable (Output) -> String?,
                minDelay: Double = 5, maxDelay: Double = 60, timeout: Double = 3600) {
        self.name = name
        self.acceptors = acceptors
        self.state = state
        self.minDelay = minDelay
        self.maxDelay = maxDelay
        self.timeout = timeout
    }

    /// Resource states that end a wait at once: the resource will never get where we want it.
    public static var terminalFailureStates: [String] {
        ["failed", "incompatible-restore", "incompatible-parameters", "incompatible-network", "incompatible-option-group",
         "incompatible-credentials", "storage-full", "deleted", "deleting", "inaccessible-encryption-credentials",
         "inaccessible-encryption-credentials-recoverable", "restore-error", "create-failed"]
    }

    /// Waits until `success` states, failing at once on the terminal failure states.
    public static func until(_ name: String, success: [String], failure: [String] = terminalFailureStates,
                             state: @escaping @Sendable (Output) -> String?, minDelay: Double = 5, maxDelay: Double = 60,
                             timeout: Double = 3600) -> Waiter {
        Waiter(name: name, acceptors: [Acceptor(.success, .state(success)), Acceptor(.failure, .state(failure.filter { !success.contains($0) }))],
               state: state, minDelay: minDelay, maxDelay: maxDelay, timeout: timeout)
    }
}

/// One progress report: how long the wait has run and what it last saw.
public struct WaitProgress: Sendable, Equatable {
    public var waitingFor: String
    public var elapsed: Double
    public var state: String?
    public var attempt: Int
    /// Set when this poll failed after its retries with an error worth polling again after
    /// (throttling, 5xx, a timeout): the wait goes on while it has time.
    public var pollError: String?

    public init(waitingFor: String, elapsed: Double, state: String?, attempt: Int, pollError: String? = nil) {
        self.waitingFor = waitingFor
        self.elapsed = elapsed
        self.state = state
        self.attempt = attempt
        self.pollError = pollError
    }
}

/// Why a wait ended without success.
public struct WaiterError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case timedOut, failureState, unexpectedError }
    public var kind: Kind
    public var waitingFor: String
    public var lastState: String?
    public var elapsed: Double
    public var underlying: String?
    /// For `unexpectedError`: true when the error was a refusal another try will not change.
    public var refused: Bool = false

    public var description: String {
        let seen = lastState.map { "last state \"\($0)\"" } ?? "no state seen yet"
        switch kind {
        case .timedOut:
            return "Timed out after \(DurationText.format(elapsed)) waiting for \(waitingFor) (\(seen))."
        case .failureState:
            return "Gave up waiting for \(waitingFor): it reached \"\(lastState ?? "?")\", from which it will not recover (after \(DurationText.format(elapsed)))."
        case .unexpectedError:
            return "Gave up waiting for \(waitingFor) after \(DurationText.format(elapsed)) (\(seen)): \(underlying ?? "error")"
        }
    }

    /// Timeouts exit 4; a failure state or a remote error exit 3 (a refusal as `remoteRefused`).
    public var drError: DRError {
        switch kind {
        case .timedOut: return .timedOut(description)
        case .failureState: return .remote(description)
        case .unexpectedError: return DRError(refused ? .remoteRefused : .remote, ErrorText(description))
        }
    }
}

extension Waiter {
    /// Polls `poll` until an acceptor decides. Returns the last output on success (nil when a
    /// "not found" error was the success).
    ///
    /// The wait lasts at most `timeout`, and no longer than the task's `TimeBudget` allows (when
    /// that runs out first, the wait ends with `TimeBudgetExhausted` naming what it waited for);
    /// each poll's requests get only what is left of the wait. A
    /// poll that fails after its retries with an error worth another try (throttling, 5xx, a
    /// timeout) does not end a wait that still has time: it is reported through `progress` and
    /// the next poll comes after the usual delay. Any other unmatched error ends the wait.
    @discardableResult
    public func wait(clock: any DRClock, jitter: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) },
                     progress: (@Sendable (WaitProgress) -> Void)? = nil,
                     poll: @Sendable () async throws -> Output) async throws -> Output? {
        let start = clock.now()
        let limit = min(timeout, TimeBudget.current.map { max(0, $0.remaining) } ?? .infinity)
        var attempt = 0
        var lastState: String?
        while true {
            attempt += 1
            let elapsed = { clock.now().timeIntervalSince(start) }
            var decided: State?
            var output: Output?
            var pollError: String?
            do {
                // Each poll's requests get no more than what is left of the wait.
                let value = try await TimeBudget(seconds: max(0, limit - elapsed()), clock: clock).run { try await poll() }
                output = value
                lastState = state(value) ?? lastState
                decided = match(value)
            } catch let error as AWSError {
                decided = match(error)
                if decided == nil {
                    guard error.retryable, elapsed() < limit else {
                        throw WaiterError(kind: .unexpectedError, waitingFor: name, lastState: lastState, elapsed: elapsed(),
                                          underlying: error.description, refused: !error.retryable)
                    }
                    pollError = error.description
                } else {
                    lastState = error.code
                }
            } catch is TimeBudgetExhausted {
                if limit < timeout { throw budgetExhausted(lastState) }
                throw WaiterError(kind: .timedOut, waitingFor: name, lastState: lastState, elapsed: elapsed())
            }
            progress?(WaitProgress(waitingFor: name, elapsed: elapsed(), state: lastState, attempt: attempt, pollError: pollError))
            switch decided {
            case .success?: return output
            case .failure?:
                throw WaiterError(kind: .failureState, waitingFor: name, lastState: lastState, elapsed: elapsed())
            case .retry?, nil:
                let remaining = limit - elapsed()
                guard remaining > 0 else {
                    if limit < timeout { throw budgetExhausted(lastState) }
                    throw WaiterError(kind: .timedOut, waitingFor: name, lastState: lastState, elapsed: elapsed())
                }
                try await clock.sleep(seconds: min(delay(afterAttempt: attempt, jitter: jitter), remaining))
            }
        }
    }

    /// The command's budget ran out before the wait's own deadline: say so, naming the wait.
    func budgetExhausted(_ lastState: String?) -> Error {
        let seen = lastState.map { "last state \"\($0)\"" } ?? "no state seen yet"
        guard let budget = TimeBudget.current else { return WaiterError(kind: .timedOut, waitingFor: name, lastState: lastState, elapsed: 0) }
        return budget.exhausted(waitingFor: "\(name) (\(seen))", lastError: nil)
    }

    /// `minDelay` after the first poll, then doubling (jittered between the previous and the new
    /// ceiling), capped at `maxDelay`.
    func delay(afterAttempt attempt: Int, jitter: @Sendable (ClosedRange<Double>) -> Double) -> Double {
        guard attempt > 1 else { return minDelay }
        let ceiling = min(maxDelay, minDelay * pow(2, Double(attempt - 1)))
        let floor = min(maxDelay, minDelay * pow(2, Double(attempt - 2)))
        return min(maxDelay, max(minDelay, jitter(floor...ceiling)))
    }

    func match(_ output: Output) -> State? {
        for acceptor in acceptors {
            switch acceptor.matcher {
            case .state(let states): if let s = state(output), states.contains(s) { return acceptor.state }
            case .output(let predicate): if predicate(output) { return acceptor.state }
            case .errorCode, .notFound: continue
            }
        }
        return nil
    }

    func match(_ error: AWSError) -> State? {
        for acceptor in acceptors {
            switch acceptor.matcher {
            case .errorCode(let code): if error.code == code { return acceptor.state }
            case .notFound: if error.isNotFound { return acceptor.state }
            case .state, .output: continue
            }
        }
        return nil
    }
}
