import DRCore
import DRProcedures
import Foundation
import DRRunbook
import DRRunbookEngine

/// `dr drill --cleanup`: finds servers and instances that drills left behind (a drill killed
/// outright cannot run its teardown) by their `dr:drill` tag, and removes only those older
/// than `olderThan` — never anything without the tag, so nothing else can be touched.
public struct DrillCleanup: Sendable {
    public struct Removed: Sendable, Codable, Equatable {
        public var target: String
        public var instance: String
        public var drillID: String
        public var startedAt: String?
        public var removed: Bool
        public var error: String?
        enum CodingKeys: String, CodingKey { case target, instance, drillID = "drill_id", startedAt = "started_at", removed, error }
    }

    public struct Result: Sendable, Codable, Equatable {
        public var removed: [Removed]
        /// Drill servers found but younger than `--older-than` (a drill may still be running).
        public var kept: [String]
        public var failed: Bool { removed.contains { !$0.removed } }
    }

    public var olderThan: Double
    public var clock: DRClock

    public init(olderThan: Double, clock: DRClock = SystemClock()) {
        self.olderThan = olderThan
        self.clock = clock
    }

    public func run(_ providers: [RecoveryProvider], progress: @Sendable (String) -> Void = { _ in }) async throws -> Result {
        var result = Result(removed: [], kept: [])
        let now = clock.now()
        for provider in providers {
            for resource in try await provider.restoredResources() {
                guard let drillID = resource.tags["dr:drill"] else { continue }
                let started = resource.tags["dr:drill-started"].flatMap(RFC3339.parse)
                if let started, now.timeIntervalSince(started) < olderThan {
                    result.kept.append(resource.name)
                    continue
                }
                progress("removing \(resource.name) (target \(provider.target.name), drill \(drillID), state \(resource.state))")
                var entry = Removed(target: provider.target.name, instance: resource.name, drillID: drillID,
                                    startedAt: started.map { RFC3339.format($0) }, removed: false)
                do {
                    entry.removed = try await provider.teardown(TeardownRequest(name: resource.name)).removed
                } catch {
                    entry.error = RunDriver.failure(error).message
                }
                result.removed.append(entry)
            }
        }
        return result
    }

    public static func text(_ result: Result) -> String {
        var out = result.removed.isEmpty ? "No drill servers left behind.\n" : ""
        for r in result.removed {
            out += r.removed ? "removed \(r.instance) (target \(r.target), drill \(r.drillID))\n"
                             : "FAILED to remove \(r.instance) (target \(r.target)): \(r.error ?? "unknown")\n"
        }
        if !result.kept.isEmpty { out += "kept (younger than --older-than): \(result.kept.joined(separator: ", "))\n" }
        return out
    }
}
