import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C and SIGTERM for the commands that change things: the first signal asks the work to
/// stop (the running task is cancelled, and blocking loops see `isRequested` at their next safe
/// point, undo their partial work and throw); a second one exits at once (130).
///
/// Blocking code (copy threads, waits for a server) calls `check()` where stopping is safe.
public enum Interruption {
    // Set from the signal source's queue, read from every thread: a lock keeps it simple.
    private static let state = LockedState()

    /// True once a signal asked the work to stop.
    public static var isRequested: Bool { state.requested }

    /// Throws `DRError.interrupted` once a signal has asked the work to stop.
    public static func check() throws {
        if isRequested { throw DRError.interrupted }
    }

    /// Runs `work` so that SIGINT and SIGTERM interrupt it: `onSignal` is told (to say what is
    /// being undone), the task is cancelled and `isRequested` turns true; a second signal exits.
    public static func run<T: Sendable>(onSignal: @escaping @Sendable (Int32) -> Void = { _ in },
                                        _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        // The handlers come first, so work that has started (taken a lock, made a folder) can
        // always be interrupted cleanly; the task they cancel is filled in right after.
        let running = TaskSlot()
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if state.request() {
                    onSignal(number)
                    running.cancel()
                } else {
                    exit(ExitStatus.interrupted.rawValue)
                }
            }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        let task = Task { try await work() }
        running.set { task.cancel() }
        do {
            return try await task.value
        } catch is CancellationError where isRequested {
            throw DRError.interrupted
        }
    }

    /// For tests of the blocking paths.
    public static func reset() { state.reset() }
}

/// A flag set once, under a lock.
private final class LockedState: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var flag = false
    var requested: Bool { lock.withLock { flag } }
    /// Sets the flag; true when this call set it (the first signal).
    func request() -> Bool { lock.withLock { defer { flag = true }; return !flag } }
    func reset() { lock.withLock { flag = false } }
}

/// How to cancel the interrupted work, once it exists; a signal before that cancels it as it is set.
private final class TaskSlot: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var cancelWork: (@Sendable () -> Void)?
    private var cancelled = false

    func set(_ cancel: @escaping @Sendable () -> Void) {
        let now = lock.withLock { () -> Bool in
            cancelWork = cancel
            return cancelled
        }
        if now { cancel() }
    }

    func cancel() {
        let work = lock.withLock { () -> (@Sendable () -> Void)? in
            cancelled = true
            return cancelWork
        }
        work?()
    }
}
