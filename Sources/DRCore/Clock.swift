import Foundation

/// Time as a dependency, so waits, retries and windows can be tested without sleeping.
public protocol DRClock: Sendable {
    func now() -> Date
    func sleep(seconds: Double) async throws
}

public struct SystemClock: DRClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}

/// A clock whose time only moves when someone sleeps on it or advances it. For tests.
public final class ManualClock: DRClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var slept: [Double] = []

    public init(_ start: Date = Date(timeIntervalSince1970: 1_700_000_000)) { current = start }

    public func now() -> Date { lock.withLock { current } }
    public func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        lock.withLock {
            slept.append(seconds)
            current = current.addingTimeInterval(max(0, seconds))
        }
    }
    public func advance(_ seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    /// Every sleep requested so far, in order.
    public var sleeps: [Double] { lock.withLock { slept } }
}
