import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// Every RDS procedure end to end against moto with SigV4 authentication on, through the
/// standard credential chain and endpoint resolution (credentials and endpoints from the environment).
final class RDSProviderMotoTests: XCTestCase {
    func testWeeklySnapshotIsOnePerWeekAndRetentionDeletesOnlyDrSnapshotsOfThatTargetAndKind() async throws {
        let f = try await RDSMotoFixture.make(retentionWeekly: 2)
        try await f.createPlatform()
        let rds = try f.session.rds(RDSMotoFixture.primary)
        // Older weekly snapshots dr made, one dr made for another target, an ad-hoc one, and one without dr tags.
        let weeklyTags = DRTags.make(kind: "weekly", target: f.target.name)
        for week in ["2020-w01", "2020-w02", "2020-w03"] {
            _ = try await rds.createDBSnapshot(snapshotIdentifier: "dr-\(f.id)-old-\(week)", instanceIdentifier: f.instance, tags: weeklyTags)
        }
        _ = try await rds.createDBSnapshot(snapshotIdentifier: "dr-\(f.id)-other-target", instanceIdentifier: f.instance,
                                           tags: DRTags.make(kind: "weekly", target: "someone-else"))
        _ = try await rds.createDBSnapshot(snapshotIdentifier: "dr-\(f.id)-adhoc-old", instanceIdentifier: f.instance,
                                           tags: DRTags.make(kind: "adhoc", target: f.target.name))
        _ = try await rds.createDBSnapshot(snapshotIdentifier: "manual-\(f.id)-by-hand", instanceIdentifier: f.instance, tags: [AWSTag("owner", "dba")])

        let provider = try f.provider()
        let first = try await provider.snapshot(SnapshotRequest(weekly: true, tags: ["change": "CHG-1"]))
        XCTAssertTrue(first.created)
        XCTAssertEqual(first.kind, "weekly")
        XCTAssertEqual(first.id, RDSNames.weeklySnapshot(target: f.target.name, at: Date()))
        // Keep 2 (the new one and the newest old one): the two oldest dr weekly snapshots go, oldest first.
        XCTAssertEqual(first.deleted.filter { !$0.hasPrefix("cache:") }, ["dr-\(f.id)-old-2020-w01", "dr-\(f.id)-old-2020-w02"])
        let left = Set(try await f.snapshots(in: RDSMotoFixture.primary).filter { $0.snapshotType == "manual" }.map(\.identifier))
        XCTAssertEqual(left, [first.id, "dr-\(f.id)-old-2020-w03", "dr-\(f.id)-other-target", "dr-\(f.id)-adhoc-old", "manual-\(f.id)-by-hand"])
        let made = try await rds.dbSnapshot(first.id)
        let tags = try await rds.listTagsForResource(arn: try XCTUnwrap(made?.arn))
        for tag in [AWSTag("dr:managed", "true"), AWSTag("dr:kind", "weekly"), AWSTag("dr:target", f.target.name),
                    AWSTag("change", "CHG-1"), AWSTag("team", "platform")] {
            XCTAssertTrue(tags.contains(tag), "\(tag) missing from \(tags)")
        }
        // The cache snapshot, same name, tagged.
        XCTAssertEqual(first.cacheSnapshot, first.id)
        let cacheSnaps = try await f.session.elastiCache(RDSMotoFixture.primary).describeSnapshots(name: first.id).items
        XCTAssertEqual(cacheSnaps.count, 1)

        // Twice in a week: no second snapshot, nothing more deleted.
        let second = try await provider.snapshot(SnapshotRequest(weekly: true))
        XCTAssertFalse(second.created)
        XCTAssertEqual(second.id, first.id)
        XCTAssertEqual(second.deleted, [])
        let again = Set(try await f.snapshots(in: RDSMotoFixture.primary).filter { $0.snapshotType == "manual" }.map(\.identifier))
        XCTAssertEqual(again, left)
    }

    func testAdhocSnapshotAndBadInputRefusals() async throws {
        let f = try await RDSMotoFixture.make(cache: false)
        try await f.createPlatform()
        let provider = try f.provider()
        let adhoc = try await provider.snapshot(SnapshotRequest())
        XCTAssertEqual(adhoc.kind, "adhoc")
        XCTAssertTrue(adhoc.id.hasPrefix("dr-prod-\(f.id)-"))
        await assertBadInput(try await provider.snapshot(SnapshotRequest(tags: ["dr:kind": "x"])), contains: "dr:kind")
        // A target whose instance does not exist.
        var missing = f.settings
        missing.resource = .instance("\(f.id)-nope")
        let noInstance = try f.provider(missing, name: "x")
        await assertBadInput(try await noInstance.snapshot(SnapshotRequest(weekly: true)), contains: "does not exist")
        // Unknown region.
        var moon = f.settings
        moon.region = "us-moon-1"
        XCTAssertThrowsError(try RDSProvider(target: f.target, settings: moon, context: f.context())) {
            XCTAssertEqual(($0 as? DRError)?.category, .badInput)
            XCTAssertTrue("\($0)".contains("us-moon-1"))
        }
    }

    func testEncryptedCrossRegionCopyReencryptsCopiesTagsAppliesRetentionAndIsIdempotent() async throws {
        let f = try await RDSMotoFixture.make(retentionDR: 1, cache: false)
        try await f.createPlatform()
        let provider = try f.provider()
        let rds = try f.session.rds(RDSMotoFixture.primary)
        let older = try await provider.snapshot(SnapshotRequest(weekly: true))
        let firstCopy = try await provider.copy(CopyRequest(snapshot: older.id))
        XCTAssertEqual(firstCopy.copied, [older.id])
        // A newer ad-hoc snapshot: `latest` picks it by creation time, not by name.
        let newerId = "a-\(f.id)-newer"
        _ = try await rds.createDBSnapshot(snapshotIdentifier: newerId, instanceIdentifier: f.instance, tags: [AWSTag("app", "x")])
        let copy = try await provider.copy(CopyRequest(snapshot: "latest"))
        XCTAssertEqual(copy.destination, RDSMotoFixture.dr)
        XCTAssertEqual(copy.copied, [newerId])
        XCTAssertEqual(copy.display["encrypted"], "true")
        // DR retention keeps 1: the first copy went.
        XCTAssertEqual(copy.deleted, [older.id])
        let west = try f.session.rds(RDSMotoFixture.dr)
        let copiedSnap = try await west.dbSnapshot(newerId)
        let copied = try XCTUnwrap(copiedSnap)
        XCTAssertEqual(copied.status, "available")
        XCTAssertTrue(copied.kmsKeyId?.contains(":us-west-2:") ?? false, "re-encrypted with the DR key: \(copied.kmsKeyId ?? "nil")")
        let tags = try await west.listTagsForResource(arn: try XCTUnwrap(copied.arn))
        XCTAssertTrue(tags.contains(AWSTag("app", "x")), "source tags carried: \(tags)")
        XCTAssertTrue(tags.contains(AWSTag("dr:kind", "dr-copy")))
        XCTAssertTrue(tags.contains(AWSTag("dr:managed", "true")))

        // Again: nothing new, the same copy.
        let again = try await provider.copy(CopyRequest())
        XCTAssertEqual(again.copied, [])
        XCTAssertEqual(again.alreadyPresent, 1)
        let inWest = try await f.snapshots(in: RDSMotoFixture.dr).map(\.identifier)
        XCTAssertEqual(inWest, [newerId])

        // Refusals: missing snapshot, same region, no DR key.
        await assertBadInput(try await provider.copy(CopyRequest(snapshot: "no-such-\(f.id)")), contains: "no-such-\(f.id)")
        await assertBadInput(try await provider.copy(CopyRequest(toRegion: RDSMotoFixture.primary)), contains: "own region")
        var noKey = f.settings
        noKey.drKMSKeyID = nil
        let keyless = try RDSProvider(target: f.target, settings: noKey, context: f.context())
        await assertBadInput(try await keyless.copy(CopyRequest(snapshot: older.id)), contains: "dr_kms_key_id")
        var badKey = f.settings
        badKey.drKMSKeyID = "alias/absent-\(f.id)"
        let wrongKey = try RDSProvider(target: f.target, settings: badKey, context: f.context())
        await assertBadInput(try await wrongKey.copy(CopyRequest(snapshot: older.id)), contains: "does not exist")
        let westAfter = try await f.snapshots(in: RDSMotoFixture.dr).map(\.identifier)
        XCTAssertEqual(westAfter, [newerId], "refusals made no copy")
    }

    func testPointInTimeRestoreChecksTheWindowCarriesSettingsOverAndIsIdempotent() async throws {
        let f = try await RDSMotoFixture.make(cache: false)
        try await f.createPlatform()
        let provider = try f.provider()
        // Outside the window (moto's window starts when the instance was created): refused, nothing made.
        let yesterday = Date().addingTimeInterval(-86400)
        await assertBadInput(try await provider.restore(RestoreRequest(point: .pointInTime(yesterday), name: "\(f.id)-pitr")),
                             contains: "outside the restorable window")
        await assertBadInput(try await provider.restore(RestoreRequest(point: .latestRestorable, name: "Bad--Name")), contains: "`as`")
        await assertBadInput(try await provider.restore(RestoreRequest(point: .latestRestorable, name: "\(f.id)-x", region: "us-west-2")),
                             contains: "point-in-time restore happens")
        let none = try await f.instances().map(\.identifier)
        XCTAssertEqual(none, [f.instance])

        try await Task.sleep(nanoseconds: 1_100_000_000)
        let inside = Date().addingTimeInterval(-0.5)
        let result = try await provider.restore(RestoreRequest(point: .pointInTime(inside), name: "\(f.id)-pitr",
                                                               rds: RDSRestoreOverrides(instanceClass: "db.t3.medium", multiAZ: false)))
        XCTAssertEqual(result.name, "\(f.id)-pitr")
        XCTAssertNotNil(result.endpoint)
        XCTAssertEqual(result.endpoint?.port, 5433, "port carried over: \(String(describing: result.endpoint))")
        let rds = try f.session.rds(RDSMotoFixture.primary)
        let restored = try await rds.dbInstance("\(f.id)-pitr")
        XCTAssertEqual(restored?.instanceClass, "db.t3.medium")
        // (moto ignores MultiAZ on restores; RDSWaitingTests checks that --no-multi-az sends MultiAZ=false.)
        let tags = try await rds.listTagsForResource(arn: try XCTUnwrap(restored?.arn))
        XCTAssertTrue(tags.contains(AWSTag("dr:managed", "true")))
        XCTAssertTrue(tags.contains(AWSTag("app", "social-analytics")), "source tags carried: \(tags)")
        XCTAssertEqual(DRTags.value(DRTags.restoredFrom, in: tags)?.hasPrefix(f.instance + "@"), true)

        // Again: the same instance is found and finished, no second.
        let again = try await provider.restore(RestoreRequest(point: .pointInTime(inside), name: "\(f.id)-pitr"))
        XCTAssertEqual(again.adopted, true)
        XCTAssertEqual(again.endpoint, result.endpoint)
        let latest = try await provider.restore(RestoreRequest(point: .latestRestorable, name: "\(f.id)-latest"))
        XCTAssertEqual(latest.requestedTime, nil)
        let all = Set(try await f.instances().map(\.identifier))
        XCTAssertEqual(all, [f.instance, "\(f.id)-pitr", "\(f.id)-latest"])
        // The source itself, or an instance dr did not make, is never adopted.
        await assertBadInput(try await provider.restore(RestoreRequest(point: .latestRestorable, name: f.instance)), contains: "source itself")
    }

    func testRegionFailoverPathRestoresTheNewestDRCopyTearsDownAndRepointsDNS() async throws {
        let f = try await RDSMotoFixture.make(cache: false)
        try await f.createPlatform()
        let provider = try f.provider()
        let snap = try await provider.snapshot(SnapshotRequest(weekly: true))
        _ = try await provider.copy(CopyRequest())
        await assertBadInput(try await provider.restore(RestoreRequest(point: .snapshot("absent-\(f.id)"), name: "\(f.id)-x", fromDR: true)),
                             contains: "absent-\(f.id)")
        let restored = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(f.id)-dr", fromDR: true))
        XCTAssertEqual(restored.snapshot, snap.id)
        XCTAssertEqual(restored.region, RDSMotoFixture.dr)
        let inWest = try await f.instances(in: RDSMotoFixture.dr).map(\.identifier)
        XCTAssertEqual(inWest, ["\(f.id)-dr"])
        let twice = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(f.id)-dr", fromDR: true))
        XCTAssertEqual(twice.adopted, true)
        // Same-region restore from a named snapshot.
        let local = try await provider.restore(RestoreRequest(point: .snapshot(snap.id), name: "\(f.id)-snap"))
        XCTAssertEqual(local.region, RDSMotoFixture.primary)

        // DNS.
        let r53 = try f.session.route53()
        let zone = "\(f.id).example.com"
        let body = "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>\(zone).</Name><CallerReference>\(f.id)</CallerReference></CreateHostedZoneRequest>"
        _ = try await r53.client.send(AWSRequest(operation: "CreateHostedZone", input: .rest(method: "POST", path: "/2013-04-01/hostedzone", body: Data(body.utf8))))
        let failover = try Providers.dns(context: f.context(WaitSettings(timeout: 30)))
        let record = "db.\(zone)"
        await assertBadInput(try await failover.run(.init(zone: zone, record: record, to: "old.\(zone)")), contains: "`create`")
        await assertBadInput(try await failover.run(.init(zone: "nozone-\(f.id).example.com", record: "db.nozone-\(f.id).example.com", to: "x.example.com")),
                             contains: "no Route 53 hosted zone")
        await assertBadInput(try await failover.run(.init(zone: zone, record: "db.elsewhere.org", to: "x.example.com")), contains: "not inside")
        let created = try await failover.run(.init(zone: zone, record: record, to: "old.\(zone)", ttl: 60, create: true))
        XCTAssertNil(created.previous)
        let host = try XCTUnwrap(restored.endpoint?.host)
        let moved = try await failover.run(.init(zone: zone, record: record, to: host))
        XCTAssertEqual(moved.previous.map(Route53Failover.normalized), "old.\(zone)")
        XCTAssertEqual(moved.now, host)
        // Re-run: no change, and still reports the value before the failover.
        let rerun = try await failover.run(.init(zone: zone, record: record, to: host))
        XCTAssertEqual(rerun.previous.map(Route53Failover.normalized), "old.\(zone)")
        let zoneId = try await r53.hostedZone(named: zone)?.id
        let records = try await r53.listAllResourceRecordSets(zoneId: try XCTUnwrap(zoneId)).filter { $0.type == "CNAME" }
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records.first?.values.map(Route53Failover.normalized), [host.lowercased()])
        // Undo.
        let undone = try await failover.run(.init(zone: zone, record: record, to: "old.\(zone)"))
        XCTAssertEqual(undone.previous.map(Route53Failover.normalized), host.lowercased())

        // Teardown: only what dr restored; twice is fine.
        let teardown = try Providers.rdsTeardown(context: f.context(WaitSettings(timeout: 30)))
        await assertBadInput(try await teardown.run(instance: f.instance, region: RDSMotoFixture.primary), contains: "dr:managed=true")
        let removed = try await teardown.run(instance: "\(f.id)-dr", region: RDSMotoFixture.dr)
        XCTAssertTrue(removed.removed)
        XCTAssertEqual(removed.display["final_snapshot"], "none")
        let gone = try await teardown.run(instance: "\(f.id)-dr", region: RDSMotoFixture.dr)
        XCTAssertFalse(gone.removed)
        let westLeft = try await f.instances(in: RDSMotoFixture.dr)
        XCTAssertEqual(westLeft.count, 0)
        let source = try await f.session.rds(RDSMotoFixture.primary).dbInstance(f.instance)
        XCTAssertNotNil(source, "the source is never deleted")
    }

    func testStatusReportsSnapshotsExposureCacheAndPolicyWarnings() async throws {
        let f = try await RDSMotoFixture.make()
        try await f.createPlatform()
        let provider = try f.provider()
        let before = try await provider.status()
        XCTAssertTrue(before.warnings.contains { $0.contains("no weekly snapshot in 8 days") }, "\(before.warnings)")
        XCTAssertTrue(before.warnings.contains { $0.contains("no DR copy in 8 days") }, "\(before.warnings)")
        XCTAssertTrue(before.warnings.contains { $0.contains("has no snapshot") }, "\(before.warnings)")
        let snap = try await provider.snapshot(SnapshotRequest(weekly: true))
        _ = try await provider.copy(CopyRequest())
        let after = try await provider.status()
        XCTAssertEqual(after.provider, "rds")
        XCTAssertTrue(after.snapshots.contains { $0.id == snap.id && $0.kind == "weekly" })
        XCTAssertEqual(after.drSnapshots.map(\.id), [snap.id])
        XCTAssertNotNil(after.restorableWindow)
        XCTAssertNotNil(after.exposureSeconds)
        XCTAssertEqual(after.cache?.newestSnapshot, snap.id)
        XCTAssertFalse(after.warnings.contains { $0.contains("weekly") || $0.contains("DR copy") || $0.contains("cache") }, "\(after.warnings)")
    }

    func testDatabaseConninfoComesFromSecretsManagerAndHidesThePassword() async throws {
        let f = try await RDSMotoFixture.make(cache: false)
        try await f.createPlatform()
        let conninfo = try await f.provider().databaseConninfo(host: "restored.example.com", port: 5433)
        XCTAssertTrue(conninfo.contains("host='restored.example.com'"))
        XCTAssertTrue(conninfo.contains("port='5433'"))
        XCTAssertTrue(conninfo.contains("user='app'"))
        XCTAssertTrue(conninfo.contains("dbname='social'"))
        XCTAssertTrue(conninfo.contains("s3cr3t-Pa55"))
        XCTAssertFalse(Redact.conninfo(conninfo).contains("s3cr3t-Pa55"))
        var missing = f.settings
        missing.database = .secret("absent/\(f.id)")
        let p = try RDSProvider(target: f.target, settings: missing, context: f.context())
        await assertBadInput(try await p.databaseConninfo(), contains: "absent/\(f.id)")
    }
}

func assertBadInput<T>(_ body: @autoclosure () async throws -> T, contains text: String, file: StaticString = #filePath, line: UInt = #line) async {
    do {
        _ = try await body()
        XCTFail("expected bad input mentioning \(text)", file: file, line: line)
    } catch let error as DRError {
        XCTAssertEqual(error.category, .badInput, error.message, file: file, line: line)
        XCTAssertTrue(error.message.contains(text), "\(error.message) should mention \(text)", file: file, line: line)
        XCTAssertTrue(error.message.contains("Nothing was changed") || error.message.contains("secret") || error.message.contains("not allowed"),
                      error.message, file: file, line: line)
    } catch {
        XCTFail("expected DRError, got \(error)", file: file, line: line)
    }
}
