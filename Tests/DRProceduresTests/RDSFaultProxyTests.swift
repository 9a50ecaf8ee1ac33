import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// The whole region-failover path with a third of all calls failing (throttling, 5xx, dropped
/// connections; seeded): every command still finishes with the same result, and nothing is made twice.
final class RDSFaultProxyTests: XCTestCase {
    func testEveryCommandFinishesWithTheSameResultAndNoDuplicateUnderInjectedFaults() async throws {
        let proxy = try FaultProxy(upstream: try Moto.url(), ratio: 0.33, seed: 7, kinds: ["500", "503", "throttle", "drop"])
        let dnsProxy = try FaultProxy(upstream: try Moto.noAuthURL(), ratio: 0.33, seed: 11, kinds: ["500", "503", "throttle", "drop"])
        defer { proxy.stop(); dnsProxy.stop() }
        let clean = try await RDSMotoFixture.make(retentionWeekly: 1, retentionDR: 1)
        try await clean.createPlatform()
        // The same target, through the proxies, with more attempts (a third of calls fail).
        let f = try await RDSMotoFixture.make(retentionWeekly: 1, retentionDR: 1, endpoint: proxy.url, route53Endpoint: dnsProxy.url, maxAttempts: 12)
        let provider = try RDSProvider(target: clean.target, settings: clean.settings, context: f.context(WaitSettings(timeout: 60)))

        let snap1 = try await provider.snapshot(SnapshotRequest(weekly: true))
        let snap2 = try await provider.snapshot(SnapshotRequest(weekly: true))
        XCTAssertEqual(snap1.id, snap2.id)
        XCTAssertFalse(snap2.created)
        let copy1 = try await provider.copy(CopyRequest())
        let copy2 = try await provider.copy(CopyRequest())
        XCTAssertEqual(copy1.copied + [], [snap1.id])
        XCTAssertEqual(copy2.alreadyPresent, 1)
        let r1 = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(clean.id)-dr", fromDR: true))
        let r2 = try await provider.restore(RestoreRequest(point: .snapshot("latest"), name: "\(clean.id)-dr", fromDR: true))
        XCTAssertEqual(r1.endpoint, r2.endpoint)
        let p1 = try await provider.restore(RestoreRequest(point: .latestRestorable, name: "\(clean.id)-pitr"))
        let p2 = try await provider.restore(RestoreRequest(point: .latestRestorable, name: "\(clean.id)-pitr"))
        XCTAssertEqual(p1.endpoint, p2.endpoint)

        let zone = "\(clean.id).example.com"
        let r53 = try clean.session.route53()
        let body = "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>\(zone).</Name><CallerReference>\(clean.id)</CallerReference></CreateHostedZoneRequest>"
        _ = try await r53.client.send(AWSRequest(operation: "CreateHostedZone", input: .rest(method: "POST", path: "/2013-04-01/hostedzone", body: Data(body.utf8))))
        let failover = try Providers.dns(context: f.context(WaitSettings(timeout: 60)))
        let host = try XCTUnwrap(r1.endpoint?.host)
        _ = try await failover.run(.init(zone: zone, record: "db.\(zone)", to: "old.\(zone)", create: true))
        let d1 = try await failover.run(.init(zone: zone, record: "db.\(zone)", to: host))
        let d2 = try await failover.run(.init(zone: zone, record: "db.\(zone)", to: host))
        XCTAssertEqual(d1.previous, d2.previous)
        let teardown = try Providers.rdsTeardown(context: f.context(WaitSettings(timeout: 60)))
        let t1 = try await teardown.run(instance: "\(clean.id)-pitr", region: RDSMotoFixture.primary)
        let t2 = try await teardown.run(instance: "\(clean.id)-pitr", region: RDSMotoFixture.primary)
        XCTAssertTrue(t1.removed)
        XCTAssertFalse(t2.removed)
        let status = try await provider.status()
        XCTAssertEqual(status.drSnapshots.map(\.id), [snap1.id])

        // Checked without the proxy: one of everything.
        let east = try await clean.snapshots(in: RDSMotoFixture.primary).filter { $0.snapshotType == "manual" }.map(\.identifier)
        XCTAssertEqual(east, [snap1.id])
        let west = try await clean.snapshots(in: RDSMotoFixture.dr).filter { $0.snapshotType == "manual" }.map(\.identifier)
        XCTAssertEqual(west, [snap1.id])
        let eastInstances = Set(try await clean.instances().map(\.identifier))
        XCTAssertEqual(eastInstances, [clean.instance])
        let westInstances = try await clean.instances(in: RDSMotoFixture.dr).map(\.identifier)
        XCTAssertEqual(westInstances, ["\(clean.id)-dr"])
        let zoneId = try await r53.hostedZone(named: zone)?.id
        let records = try await r53.listAllResourceRecordSets(zoneId: try XCTUnwrap(zoneId)).filter { $0.type == "CNAME" }
        XCTAssertEqual(records.count, 1)
        let statsResponse = try await CurlTransport(options: .init(proxy: ProxySettings()))
            .send(HTTPRequest(method: "GET", url: proxy.url.appendingPathComponent("__fault/stats")), timeout: 10)
        let stats = try JSONSerialization.jsonObject(with: statsResponse.body) as? [String: Any] ?? [:]
        XCTAssertGreaterThan(stats["faults"] as? Int ?? 0, 5, "the proxy really injected faults: \(stats)")
    }
}
