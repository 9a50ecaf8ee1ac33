import DRCore
import DRProcedures
import Foundation
import DRRunbook
import DRRunbookEngine

/// `dr drill --cleanup`: finds servers and instances that drills left behind (a drill killed
/// outright cannot run its teardown) and removes only those that are plainly a drill's: named
/// with the drill prefix (`drill-`), carrying the `dr:drill` tag, and with a readable
/// `dr:drill-started` older than `olderThan`. Everything else it found is left alone and listed
/// with the reason, so nothing a person made (or tagged by hand) can be touched.
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

    /// A restored resource cleanup did not remove, and why.
    public struct Left: Sendable, Codable, Equatable {
        public var target: String
        public var instance: String
        public var reason: String
    }

    public struct Result: Sendable, Codable, Equatable {
        public var removed: [Removed]
        /// Drill servers found but younger than `--older-than` (a drill may still be running).
        public var kept: [String]
        /// Every restored resource left alone (the young drill ones included), with the reason.
        public var left: [Left]
        public var failed: Bool { removed.contains { !$0.removed } }
    }

    public static let namePrefix = "drill-"

    public var olderThan: Double
    public var clock: DRClock

    public init(olderThan: Double, clock: DRClock = SystemClock()) {
        self.olderThan = olderThan
        self.clock = clock
    }

    /// Why `resource` is not a drill leftover to remove now; nil when it is one.
    func reasonToLeave(_ resource: RestoredResource, now: Date) -> String? {
        guard resource.tags["dr:drill"] != nil else { return "not a drill's (no dr:drill tag)" }
        guard resource.name.hasPrefix(Self.namePrefix) else { return "its name does not start with \(Self.namePrefix), as every drill's does: tagged by hand?" }
        guard let text = resource.tags["dr:drill-started"] else { return "no dr:drill-started tag: when it started is unknown" }
        guard let started = RFC3339.parse(text) else { return "its dr:drill-started tag (\(text)) is not an RFC 3339 time" }
        let age = now.timeIntervalSince(started)
        if age < -300 { return "its dr:drill-started (\(text)) is in the future" }
        if age < olderThan { return "younger than --older-than (started \(text)): a drill may still be running" }
        return nil
    }

    public func run(_ providers: [RecoveryProvider], progress: @Sendable (String) -> Void = { _ in }) async throws -> Result {
        var result = Result(removed: [], kept: [], left: [])
        let now = clock.now()
        for provider in providers {
            for resource in try await provider.restoredResources() {
                if let reason = reasonToLeave(resource, now: now) {
                    if resource.tags["dr:drill"] != nil, resource.name.hasPrefix(Self.namePrefix), reason.hasPrefix("younger") {
                        result.kept.append(resource.name)
                    }
                    result.left.append(Left(target: provider.target.name, instance: resource.name, reason: reason))
                    continue
                }
                let drillID = resource.tags["dr:drill"] ?? ""
                let started = resource.tags["dr:drill-started"].flatMap(RFC3339.parse)
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
        for l in result.left { out += "left \(l.instance) (target \(l.target)): \(l.reason)\n" }
        return out
    }
}
