import Foundation

/// Waits for RDS resources, as data. Deletion waits take "not found" as success.
extension RDSClient {
    public func waitForDBInstanceAvailable(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBInstance?>.until("DB instance \(id) to be available", success: ["available"], state: { $0?.status ?? "not-found" },
                                               timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await dbInstance(id) }
    }

    public func waitForDBInstanceDeleted(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBInstance?>(name: "DB instance \(id) to be deleted",
                                         acceptors: [.init(.success, .output { $0 == nil }), .init(.success, .notFound),
                                                     .init(.failure, .state(["creating", "modifying", "rebooting", "resetting-master-credentials"]))],
                                         state: { $0?.status ?? "deleted" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await dbInstance(id) }
    }

    public func waitForDBSnapshotAvailable(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBSnapshot?>.until("DB snapshot \(id) to be available", success: ["available"],
                                               state: { $0?.status ?? "not-found" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await dbSnapshot(id) }
    }

    public func waitForDBSnapshotDeleted(_ id: String, timeout: Double = 3600, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBSnapshot?>(name: "DB snapshot \(id) to be deleted",
                                         acceptors: [.init(.success, .output { $0 == nil }), .init(.success, .notFound)],
                                         state: { $0?.status ?? "deleted" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await dbSnapshot(id) }
    }

    public func waitForDBClusterAvailable(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBCluster?>.until("DB cluster \(id) to be available", success: ["available"],
                                              state: { $0?.status ?? "not-found" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await dbCluster(id) }
    }

    public func waitForDBClusterDeleted(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBCluster?>(name: "DB cluster \(id) to be deleted",
                                        acceptors: [.init(.success, .output { $0 == nil }), .init(.success, .notFound),
                                                    .init(.failure, .state(["creating", "modifying", "rebooting"]))],
                                        state: { $0?.status ?? "deleted" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await dbCluster(id) }
    }

    public func waitForDBClusterSnapshotAvailable(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<DBClusterSnapshot?>.until("DB cluster snapshot \(id) to be available", success: ["available"],
                                                      state: { $0?.status ?? "not-found" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) {
            do { return try await describeDBClusterSnapshots(snapshotIdentifier: id).items.first } catch let e as AWSError where e.isNotFound { return nil }
        }
    }
}
