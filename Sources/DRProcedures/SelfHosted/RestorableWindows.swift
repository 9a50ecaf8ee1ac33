import DRCore
import Foundation

/// What a repository can restore (`SelfHostedProvider.restorableWindows`).
public struct RestorableWindows: Codable, Sendable, Equatable {
    public struct Backup: Codable, Sendable, Equatable {
        public var backup: String
        /// The timeline a restore of it follows.
        public var timeline: UInt32
        public var window: TimeWindow
    }
    public var repository: String
    /// Each complete backup with its WAL, oldest first.
    public var backups: [Backup]
    /// The windows merged where they touch, oldest first; more than one means a gap.
    public var merged: [TimeWindow]

    /// The newest merged window (what `status` reports as the restorable window).
    public var latest: TimeWindow? { merged.last }
    public func contains(_ time: Date) -> Bool { merged.contains { $0.contains(time) } }
}

/// What a restore would use (`SelfHostedProvider.restoreChoice`).
public struct RestoreChoice: Codable, Sendable, Equatable {
    public var repository: String
    public var backup: String
    public var timeline: UInt32
    /// The chosen backup's window.
    public var window: TimeWindow
    public var targetTime: Date?
    /// WAL files the restore stages before it starts the server.
    public var walFiles: Int
}
