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
}

/// Why a wait ended without success.
public struct WaiterError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case timedOut, failureState, unexpectedError }
    public var kind: Kind
    public var waitingFor: String
    public var lastState: String?
    public var elapsed: Double
    public var underlying: String?

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

    /// Timeouts exit 4; a failure state or a remote error exit 3.
    public var drError: DRError { kind == .timedOut ? .timedOut(description) : .remote(description) }
}

extension Waiter {
    /// Polls `poll` until an acceptor decides. Returns the last output on success (nil when a
    /// "not found" error was the success).
    @discardableResult
    public func wait(clock: any DRClock, jitter: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) },
                     progress: (@Sendable (WaitProgress) -> Void)? = nil,
                     poll: @Sendable () async throws -> Output) async throws -> Output? {
        let start = clock.now()
        var attempt = 0
        var lastState: String?
        while true {
            attempt += 1
            let elapsed = { clock.now().timeIntervalSince(start) }
            var decided: State?
            var output: Output?
            do {
                let value = try await poll()
                output = value
                lastState = state(value) ?? lastState
                decided = match(value)
            } catch let error as AWSError {
                decided = match(error)
                if decided == nil {
                    throw WaiterError(kind: .unexpectedError, waitingFor: name, lastState: lastState, elapsed: elapsed(), underlying: error.description)
                }
                lastState = error.code
            }
            progress?(WaitProgress(waitingFor: name, elapsed: elapsed(), state: lastState, attempt: attempt))
            switch decided {
            case .success?: return output
            case .failure?:
                throw WaiterError(kind: .failureState, waitingFor: name, lastState: lastState, elapsed: elapsed())
            case .retry?, nil:
                let remaining = timeout - elapsed()
                guard remaining > 0 else {
                    throw WaiterError(kind: .timedOut, waitingFor: name, lastState: lastState, elapsed: elapsed())
                }
                try await clock.sleep(seconds: min(delay(afterAttempt: attempt, jitter: jitter), remaining))
            }
        }
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
