import Foundation

/// Runs blocking work (libpq, libcurl, waiting on a child) on its own thread, so it never holds
/// one of Swift's cooperative threads while it waits.
public func offloadBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
    }
}
