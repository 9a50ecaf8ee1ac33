import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// Aurora (`cluster:`) targets end to end against moto (auth on): a restored cluster gets its
/// writer instance, re-runs reuse what an earlier run made, teardown deletes the instances then
/// the cluster and only what dr made. (moto makes clusters and instances available at once.)
final class RDSAuroraMotoTests: XCTestCase {
    func testSnapshotRestoreGetsAWriterARerunAfterACrashFinishesAndTeardownDeletesOnlyWhatDrMade() async throws {
        let f = try await RDSMotoFixture.make(cache: false, cluster: true)
        try await f.createPlatform()
        let provider = try f.provider()
        let rds = try f.session.rds(RDSMotoFixture.primary)

        let snap = try await provider.snapshot(SnapshotRequest(weekly: true))
        XCTAssertTrue(snap.created)
        let clusterSnaps = try await rds.describeDBClusterSnapshots(snapshotIdentifier: snap.id).items
        XCTAssertEqual(clusterSnaps.map(\.clusterIdentifier), [f.cluster], "a cluster snapshot of the target's cluster")

        // A name whose writer name (NAME-1) is taken by something dr did not make: refused before anything is made.
        _ = try await rds.createDBInstance(CreateDBInstanceInput(identifier: "\(f.id)-taken-1", instanceClass: "db.r6g.large",
                                                                 engine: "aurora-postgresql", clusterIdentifier: f.cluster))
        await assertBadInput(try await provider.restore(RestoreRequest(point: .snapshot(snap.id), name: "\(f.id)-taken")), contains: "\(f.id)-taken-1")
        let untouched = Set(try await f.clusters().map(\.identifier))
        XCTAssertEqual(untouched, [f.cluster])

        let restored = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(f.id)-snap"))
        let writerId = "\(f.id)-snap-1"
        XCTAssertEqual(restored.writerInstance, writerId)
        XCTAssertEqual(restored.writerCreated, true)
        let cluster = try await rds.dbCluster("\(f.id)-snap")
        XCTAssertEqual(restored.endpoint?.description, "\(try XCTUnwrap(cluster?.endpoint)):\(try XCTUnwrap(cluster?.port))", "the cluster's writer endpoint")
        let writers = try await rds.dbInstances(inCluster: "\(f.id)-snap")
        XCTAssertEqual(writers.map(\.identifier), [writerId])
        let writer = try XCTUnwrap(writers.first)
        XCTAssertEqual(writer.instanceClass, "db.r6g.large", "the source writer's class")
        XCTAssertEqual(writer.engine, "aurora-postgresql")
        XCTAssertEqual(writer.status, "available")
        let writerTags = try await rds.tags(described: writer.tags, arn: writer.arn)
        for tag in [AWSTag(DRTags.managed, "true"), AWSTag(DRTags.restoredFrom, snap.id), AWSTag(DRTags.target, f.target.name)] {
            XCTAssertTrue(writerTags.contains(tag), "\(tag) missing from \(writerTags)")
        }
        let clusterTags = try await rds.tags(described: cluster?.tags ?? [], arn: cluster?.arn)
        XCTAssertTrue(clusterTags.contains(AWSTag("app", "social-analytics")), "source tags carried: \(clusterTags)")

        // Again: the same cluster and writer, nothing new.
        let again = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(f.id)-snap"))
        XCTAssertEqual(again.adopted, true)
        XCTAssertEqual(again.writerCreated, false)
        XCTAssertEqual(again.endpoint, restored.endpoint)
        let stillOne = try await rds.dbInstances(inCluster: "\(f.id)-snap").map(\.identifier)
        XCTAssertEqual(stillOne, [writerId])

        // A run that stopped after the cluster request (here --no-wait: no writer yet); the re-run adds the writer.
        let started = try await f.provider(WaitSettings(timeout: 60, noWait: true))
            .restore(RestoreRequest(point: .snapshot(snap.id), name: "\(f.id)-crash"))
        XCTAssertEqual(started.writerCreated, false, "\(started.display)")
        let noWriterYet = try await rds.dbInstances(inCluster: "\(f.id)-crash")
        XCTAssertEqual(noWriterYet.count, 0)
        let finished = try await provider.restore(RestoreRequest(point: .snapshot(snap.id), name: "\(f.id)-crash"))
        XCTAssertEqual(finished.adopted, true)
        XCTAssertEqual(finished.writerCreated, true)
        let crashWriters = try await rds.dbInstances(inCluster: "\(f.id)-crash").map(\.identifier)
        XCTAssertEqual(crashWriters, ["\(f.id)-crash-1"])

        // Teardown: never the source cluster; not a dr cluster holding an instance dr did not make.
        let teardown = try Providers.rdsTeardown(context: f.context(WaitSettings(timeout: 30)))
        await assertBadInput(try await teardown.run(cluster: f.cluster, region: RDSMotoFixture.primary), contains: "dr:managed=true")
        _ = try await rds.createDBInstance(CreateDBInstanceInput(identifier: "\(f.id)-snap-hand", instanceClass: "db.r6g.large",
                                                                 engine: "aurora-postgresql", clusterIdentifier: "\(f.id)-snap"))
        await assertBadInput(try await teardown.run(cluster: "\(f.id)-snap", region: RDSMotoFixture.primary), contains: "\(f.id)-snap-hand")
        let refusedLeft = Set(try await rds.dbInstances(inCluster: "\(f.id)-snap").map(\.identifier))
        XCTAssertEqual(refusedLeft, [writerId, "\(f.id)-snap-hand"], "a refusal deletes nothing")
        _ = try await rds.deleteDBInstance("\(f.id)-snap-hand", skipFinalSnapshot: true)

        let removed = try await provider.teardown(TeardownRequest(name: "\(f.id)-snap"))
        XCTAssertTrue(removed.removed)
        XCTAssertEqual(removed.instances, [writerId])
        XCTAssertEqual(removed.display["final_snapshot"], "none")
        let gone = try await teardown.run(cluster: "\(f.id)-snap", region: RDSMotoFixture.primary)
        XCTAssertFalse(gone.removed)
        _ = try await teardown.run(cluster: "\(f.id)-crash", region: RDSMotoFixture.primary)
        let left = Set(try await f.clusters().map(\.identifier))
        XCTAssertEqual(left, [f.cluster])
        let instancesLeft = Set(try await f.instances().map(\.identifier))
        XCTAssertEqual(instancesLeft, [f.clusterWriter, "\(f.id)-taken-1"], "the source's writer and the instance dr did not make stay")
    }

    func testPointInTimeAndDRRegionRestoresOfAClusterAndItsStatus() async throws {
        let f = try await RDSMotoFixture.make(cache: false, cluster: true)
        try await f.createPlatform()
        let provider = try f.provider()
        let rds = try f.session.rds(RDSMotoFixture.primary)

        // Outside the window: refused, nothing made.
        await assertBadInput(try await provider.restore(RestoreRequest(point: .pointInTime(Date().addingTimeInterval(-86400)), name: "\(f.id)-old")),
                             contains: "outside the restorable window")
        let none = Set(try await f.clusters().map(\.identifier))
        XCTAssertEqual(none, [f.cluster])

        try await Task.sleep(nanoseconds: 1_100_000_000)
        let inside = Date().addingTimeInterval(-0.5)
        let pitr = try await provider.restore(RestoreRequest(point: .pointInTime(inside), name: "\(f.id)-pitr",
                                                             rds: RDSRestoreOverrides(instanceClass: "db.t3.medium")))
        XCTAssertEqual(pitr.requestedTime, inside)
        XCTAssertEqual(pitr.endpoint?.port, 5433, "port carried over: \(String(describing: pitr.endpoint))")
        XCTAssertEqual(pitr.display["restored_from"]?.hasPrefix(f.cluster + "@"), true)
        let pitrWriter = try await rds.dbInstance("\(f.id)-pitr-1")
        XCTAssertEqual(pitrWriter?.instanceClass, "db.t3.medium", "--instance-class is the writer's")
        XCTAssertEqual(pitrWriter?.clusterIdentifier, "\(f.id)-pitr")
        let latest = try await provider.restore(RestoreRequest(point: .latestRestorable, name: "\(f.id)-latest"))
        XCTAssertNil(latest.requestedTime)
        let latestWriter = try await rds.dbInstance("\(f.id)-latest-1")
        XCTAssertEqual(latestWriter?.instanceClass, "db.r6g.large")

        // The region-failover path: the newest DR copy, in the DR region, its writer of the source writer's class.
        let snap = try await provider.snapshot(SnapshotRequest(weekly: true))
        let copy = try await provider.copy(CopyRequest())
        XCTAssertEqual(copy.copied, [snap.id])
        let dr = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(f.id)-dr", fromDR: true))
        XCTAssertEqual(dr.region, RDSMotoFixture.dr)
        XCTAssertEqual(dr.snapshot, snap.id)
        let west = try f.session.rds(RDSMotoFixture.dr)
        let drWriters = try await west.dbInstances(inCluster: "\(f.id)-dr")
        XCTAssertEqual(drWriters.map(\.identifier), ["\(f.id)-dr-1"])
        XCTAssertEqual(drWriters.first?.instanceClass, "db.r6g.large")
        let removed = try await Providers.rdsTeardown(context: f.context(WaitSettings(timeout: 30))).run(cluster: "\(f.id)-dr", region: RDSMotoFixture.dr)
        XCTAssertTrue(removed.removed)
        let westLeft = try await f.clusters(in: RDSMotoFixture.dr)
        XCTAssertEqual(westLeft.count, 0)

        let status = try await provider.status()
        XCTAssertEqual(status.display["cluster"], f.cluster)
        XCTAssertEqual(status.state, "available")
        let window = try XCTUnwrap(status.restorableWindow)
        XCTAssertEqual(status.display["latest_restorable_time"], RFC3339.format(window.latest))
        XCTAssertTrue(status.snapshots.contains { $0.id == snap.id && $0.kind == "weekly" })
        XCTAssertEqual(status.drSnapshots.map(\.id), [snap.id])
    }
}
