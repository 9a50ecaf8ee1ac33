import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// `dr check`'s application lines (`AppReadiness`) against moto: the DR-region service exists,
/// its task definition's images are in the DR region's ECR, and its desired count is the
/// target's `app.desired`; each broken on purpose fails (or warns) naming what it found and the fix.
final class AppReadinessTests: XCTestCase {
    func checks(_ f: AppMotoFixture, _ settings: RDSTargetSettings? = nil) async throws -> [String: ReadinessCheck] {
        let list = await (try f.provider(settings)).appReadinessChecks()
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }

    func testAPreparedPilotLightPassesAndEachDriftIsNamed() async throws {
        let f = try await AppMotoFixture.make()
        try await f.createApplication()

        let ready = try await checks(f)
        XCTAssertEqual(Set(ready.keys), ["app_dr_service", "app_dr_images", "app_dr_desired"])
        XCTAssertTrue(ready.values.allSatisfy { $0.status == .ok }, "\(ready.values.map { "\($0.name): \($0.found)" })")
        XCTAssertEqual(ready["app_dr_service"]?.found, "ECS service \(f.service) in cluster \(f.drCluster) (us-west-2) is ACTIVE, runs \(f.family):1")
        XCTAssertEqual(ready["app_dr_images"]?.found, "1 of 1 image of \(f.family):1 in us-west-2's ECR")

        // A warm standby planned at 2 but kept at 0: not as ready as the plan says.
        var warm = f.settings
        warm.app?.desired = 2
        let cold = try await checks(f, warm)
        XCTAssertEqual(cold["app_dr_desired"]?.status, .failed)
        XCTAssertTrue(cold["app_dr_desired"]?.found.contains("wants 0 tasks (0 running); dr.yml says 2") == true, cold["app_dr_desired"]?.found ?? "")
        // Left scaled up after a test: ready, but not what dr.yml says.
        _ = try await f.session.ecs(AppMotoFixture.dr).updateService(.init(cluster: f.drCluster, service: f.service, desiredCount: 3))
        let over = try await checks(f)
        XCTAssertEqual(over["app_dr_desired"]?.status, .warning)
        XCTAssertNotNil(over["app_dr_desired"]?.fix)

        // The DR task definition points at an image the DR registry does not have, one in the
        // primary region's registry, and one outside ECR.
        try await f.register(f.family, image: f.image(AppMotoFixture.dr, "9.9"), region: AppMotoFixture.dr)
        _ = try await f.session.ecs(AppMotoFixture.dr).updateService(.init(cluster: f.drCluster, service: f.service, taskDefinition: "\(f.family):2"))
        let missing = try await checks(f)
        XCTAssertEqual(missing["app_dr_images"]?.status, .failed)
        XCTAssertTrue(missing["app_dr_images"]?.found.contains("\(f.image(AppMotoFixture.dr, "9.9")) is not in the registry") == true, missing["app_dr_images"]?.found ?? "")
        try await f.register(f.family, image: f.image(AppMotoFixture.primary, "1.3"), region: AppMotoFixture.dr)
        _ = try await f.session.ecs(AppMotoFixture.dr).updateService(.init(cluster: f.drCluster, service: f.service, taskDefinition: "\(f.family):3"))
        let elsewhere = try await checks(f)
        XCTAssertEqual(elsewhere["app_dr_images"]?.status, .failed)
        XCTAssertTrue(elsewhere["app_dr_images"]?.found.contains("is in us-east-1's registry, not us-west-2's") == true, elsewhere["app_dr_images"]?.found ?? "")
        XCTAssertTrue(elsewhere["app_dr_images"]?.fix?.contains("replicate") == true)
        try await f.register(f.family, image: "public.ecr.aws/nginx/nginx:1.25", region: AppMotoFixture.dr)
        _ = try await f.session.ecs(AppMotoFixture.dr).updateService(.init(cluster: f.drCluster, service: f.service, taskDefinition: "\(f.family):4"))
        let outside = try await checks(f)
        XCTAssertEqual(outside["app_dr_images"]?.status, .warning, outside["app_dr_images"]?.found ?? "")

        // No DR service, no DR cluster, no dr_region.
        var gone = f.settings
        gone.app?.drService = "\(f.id)-none"
        let absent = try await checks(f, gone)
        XCTAssertEqual(absent.keys.sorted(), ["app_dr_service"])
        XCTAssertEqual(absent["app_dr_service"]?.status, .failed)
        XCTAssertTrue(absent["app_dr_service"]?.found.contains("MISSING") == true)
        gone.app?.drCluster = "\(f.id)-nocluster"
        let noCluster = try await checks(f, gone)
        XCTAssertTrue(noCluster["app_dr_service"]?.found.contains("no ECS cluster \(f.id)-nocluster in us-west-2") == true)
        var noDR = f.settings
        noDR.drRegion = nil
        let noRegion = try await checks(f, noDR)
        XCTAssertEqual(noRegion["app_dr_service"]?.status, .failed)
        XCTAssertTrue(noRegion["app_dr_service"]?.found.contains("no `dr_region:`") == true)
        // A target without app: has no application lines.
        let none = await (try f.provider(f.rds.settings)).appReadinessChecks()
        XCTAssertEqual(none, [])
    }

    func testAnUnreadableServiceFailsTheCheckSayingWhy() async throws {
        let f = try await AppMotoFixture.make()
        try await f.createApplication()
        let proxy = try FaultProxy(upstream: try Moto.url(), ratio: 1, kinds: ["denied"])
        defer { proxy.stop() }
        let through = try await f.through(proxy.url, maxAttempts: 1)
        let list = await (try through.provider()).appReadinessChecks()
        XCTAssertEqual(list.map(\.name), ["app_dr_service"])
        XCTAssertEqual(list.first?.status, .failed)
        XCTAssertTrue(list.first?.found.contains("AccessDenied") == true, list.first?.found ?? "")
        XCTAssertTrue(list.first?.fix?.contains("ecs:DescribeServices") == true)
    }
}
