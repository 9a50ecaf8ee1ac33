import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// `app.scale` and `app.rollback` on the RDS backend against moto (auth on): plans that change
/// nothing, runs that make exactly one change and are harmless to repeat, the undo information
/// they keep, every refusal before any change, and the same results with a third of all calls
/// failing behind the fault proxy.
final class AppMotoTests: XCTestCase {
    func testScaleUpAndBackRecordsThePreviousCountAndARerunChangesNothing() async throws {
        let f = try await AppMotoFixture.make()
        try await f.createApplication()
        let provider = try f.provider()

        let plan = try await provider.plan(.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 3)))
        let change = try XCTUnwrap(plan.actions.first { $0.mutates })
        XCTAssertEqual(change.call, "ecs:UpdateService")
        XCTAssertEqual(change.current, "0")
        XCTAssertTrue(change.summary.contains("currently 0 → will be 3"), change.summary)
        XCTAssertEqual(plan.actions.filter(\.mutates).count, 1)
        let afterPlan = try await f.service(in: AppMotoFixture.dr)
        XCTAssertEqual(afterPlan.desiredCount, 0, "the plan changed nothing")

        let up = try await provider.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 3))
        XCTAssertEqual([up.previousDesired, up.desired, up.running], [0, 3, 3])
        XCTAssertTrue(up.changed)
        XCTAssertTrue(up.waited)
        XCTAssertEqual([up.cluster, up.service, up.region], [f.drCluster, f.service, AppMotoFixture.dr])
        XCTAssertEqual(up.taskDefinition, "\(f.family):1")
        let scaled = try await f.service(in: AppMotoFixture.dr)
        XCTAssertEqual(scaled.desiredCount, 3)

        let again = try await provider.appScale(AppScaleRequest(fromDR: true, desired: 3))
        XCTAssertEqual(again.region, AppMotoFixture.dr, "from_dr means the target's dr_region")
        XCTAssertFalse(again.changed)
        XCTAssertEqual(again.previousDesired, 0, "a re-run still knows the count to scale back to")
        let rerunPlan = try await provider.plan(.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 3)))
        XCTAssertEqual(rerunPlan.actions.filter(\.mutates), [], "nothing to change")

        let down = try await provider.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 0))
        XCTAssertEqual([down.previousDesired, down.desired, down.running], [3, 0, 0])
        let back = try await f.service(in: AppMotoFixture.dr)
        XCTAssertEqual(back.desiredCount, 0)
        // The primary region's service is its own: untouched.
        let primary = try await f.service()
        XCTAssertEqual(primary.desiredCount, 2)
        let history = AppTier.Location(region: AppMotoFixture.dr, cluster: f.drCluster, service: f.service, isDR: true)
        XCTAssertEqual(try AppTier(provider: provider).history(history, "desired").entries().map { "\($0.from ?? "-")→\($0.to)" }, ["3→0", "0→3"])
    }

    func testRollbackToThePreviousRevisionThenToANamedOneAndARerunDoesNotRollBackTwice() async throws {
        let f = try await AppMotoFixture.make()
        try await f.createApplication()
        let provider = try f.provider()

        let plan = try await provider.plan(.appRollback(AppRollbackRequest()))
        let change = try XCTUnwrap(plan.actions.first { $0.mutates })
        XCTAssertTrue(change.summary.contains("currently \(f.family):3 → will be \(f.family):2"), change.summary)
        XCTAssertEqual(change.current, "\(f.family):3")
        XCTAssertEqual(plan.actions.compactMap(\.call), ["ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:UpdateService", "ecs:DescribeServices"])
        let afterPlan = try await f.running()
        XCTAssertEqual(afterPlan, "\(f.family):3", "the plan changed nothing")

        let first = try await provider.appRollback(AppRollbackRequest())
        XCTAssertEqual([first.taskDefinition, first.replaced], ["\(f.family):2", "\(f.family):3"])
        XCTAssertTrue(first.changed)
        XCTAssertEqual([first.desired, first.running], [2, 2])
        let rolled = try await f.running()
        XCTAssertEqual(rolled, "\(f.family):2")

        // A re-run (a resumed step, a second try): the rollback is already done.
        let rerun = try await provider.appRollback(AppRollbackRequest())
        XCTAssertFalse(rerun.changed)
        XCTAssertEqual([rerun.taskDefinition, rerun.replaced], ["\(f.family):2", "\(f.family):3"])
        let rerunPlan = try await provider.plan(.appRollback(AppRollbackRequest()))
        XCTAssertEqual(rerunPlan.actions.filter(\.mutates), [])
        XCTAssertTrue(rerunPlan.actions.contains { $0.summary.contains("dr rolled \(f.service) back from \(f.family):3 to \(f.family):2") },
                      "\(rerunPlan.actions.map(\.summary))")
        let stillTwo = try await f.running()
        XCTAssertEqual(stillTwo, "\(f.family):2")

        // A named revision, by number and then by name; the same one again changes nothing.
        let named = try await provider.appRollback(AppRollbackRequest(to: "1"))
        XCTAssertEqual([named.taskDefinition, named.replaced], ["\(f.family):1", "\(f.family):2"])
        let same = try await provider.appRollback(AppRollbackRequest(to: "\(f.family):1"))
        XCTAssertFalse(same.changed)
        // Forward again (the undo of the rollbacks), then "previous" skips what dr rolled back from.
        let forward = try await provider.appRollback(AppRollbackRequest(to: "arn:aws:ecs:us-east-1:\(AppMotoFixture.account):task-definition/\(f.family):3"))
        XCTAssertEqual(forward.taskDefinition, "\(f.family):3")
        let skipPlan = try await provider.plan(.appRollback(AppRollbackRequest()))
        let skip = try XCTUnwrap(skipPlan.actions.first { $0.mutates }?.summary)
        XCTAssertTrue(skip.contains("will be \(f.family):1 (passing over \(f.family):2 (dr rolled back from it))"), skip)
        let final = try await f.running()
        XCTAssertEqual(final, "\(f.family):3")
    }

    func testEveryRefusalIsBadInputBeforeAnyChange() async throws {
        let f = try await AppMotoFixture.make()
        try await f.createApplication()
        let provider = try f.provider()
        // Another family, with a revision of its own; a family with one revision and a service on it.
        try await f.register("\(f.id)-worker", image: f.image(AppMotoFixture.primary, "w1"), region: AppMotoFixture.primary)
        try await f.register("\(f.id)-solo", image: f.image(AppMotoFixture.primary, "s1"), region: AppMotoFixture.primary)
        try await f.createService(cluster: f.primaryCluster, service: "\(f.id)-solo-api", taskDefinition: "\(f.id)-solo:1", desired: 1,
                                  region: AppMotoFixture.primary)
        try await f.deregister("\(f.family):1")

        func refused(_ body: () async throws -> Void, code: DRError.Code, _ words: String..., line: UInt = #line) async {
            do {
                try await body()
                XCTFail("must be refused", line: line)
            } catch let error as DRError {
                XCTAssertEqual(error.code, code, error.message, line: line)
                XCTAssertEqual(error.exitStatus, .badInput, line: line)
                XCTAssertTrue(error.message.contains("Nothing was changed."), error.message, line: line)
                for w in words { XCTAssertTrue(error.message.contains(w), "\(w) in \(error.message)", line: line) }
            } catch {
                XCTFail("\(error)", line: line)
            }
        }
        await refused({ _ = try await provider.appRollback(AppRollbackRequest(to: "\(f.id)-worker:1")) }, code: .invalidParameter,
                      "family \(f.id)-worker", "runs \(f.family):3")
        await refused({ _ = try await provider.appRollback(AppRollbackRequest(to: "1")) }, code: .invalidParameter, "\(f.family):1", "INACTIVE")
        await refused({ _ = try await provider.plan(.appRollback(AppRollbackRequest(to: "1"))) }, code: .invalidParameter, "INACTIVE")
        await refused({ _ = try await provider.appRollback(AppRollbackRequest(to: "99")) }, code: .notFound, "\(f.family):99")
        await refused({ _ = try await provider.appRollback(AppRollbackRequest(to: "last week")) }, code: .invalidParameter, "`to`")
        var solo = f.settings
        solo.app = AppSettings(cluster: f.primaryCluster, service: "\(f.id)-solo-api")
        await refused({ _ = try await f.provider(solo).appRollback(AppRollbackRequest()) }, code: .invalidParameter,
                      "no previous revision", "\(f.id)-solo:1 is the oldest ACTIVE revision")
        await refused({ _ = try await provider.appScale(AppScaleRequest(region: "eu-west-1", desired: 2)) }, code: .invalidParameter,
                      "eu-west-1", "us-east-1", "us-west-2")
        await refused({ _ = try await provider.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: -1)) }, code: .invalidParameter, "`desired`")
        await refused({ _ = try await provider.appScale(AppScaleRequest(desired: 1)) }, code: .invalidParameter, "`region`", "`from_dr`")
        await refused({ _ = try await provider.appScale(AppScaleRequest(region: AppMotoFixture.primary, fromDR: true, desired: 1)) },
                      code: .invalidParameter, "disagree", AppMotoFixture.dr)
        var noDR = f.settings
        noDR.drRegion = nil
        await refused({ _ = try await f.provider(noDR).appScale(AppScaleRequest(fromDR: true, desired: 1)) }, code: .invalidConfig, "no `dr_region:`")
        var missing = f.settings
        missing.app = AppSettings(cluster: f.primaryCluster, service: "\(f.id)-nope")
        await refused({ _ = try await f.provider(missing).appScale(AppScaleRequest(region: AppMotoFixture.primary, desired: 1)) }, code: .notFound,
                      "\(f.id)-nope", "MISSING")
        missing.app = AppSettings(cluster: "\(f.id)-nocluster", service: f.service)
        await refused({ _ = try await f.provider(missing).appRollback(AppRollbackRequest()) }, code: .notFound, "no ECS cluster \(f.id)-nocluster")
        await refused({ _ = try await f.provider(f.rds.settings).appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 1)) },
                      code: .invalidConfig, "no `app:`")
        let selfHosted = Target(name: "pg", provider: .postgres(PostgresTargetSettings(conninfo: "host=127.0.0.1", repository: "/nonexistent/repo")))
        let native = try Providers.make(for: selfHosted, context: f.rds.context())
        await refused({ _ = try await native.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 1)) }, code: .invalidParameter,
                      "provider postgres", "no application tier")
        await refused({ _ = try await native.plan(.appRollback(AppRollbackRequest())) }, code: .invalidParameter, "no application tier")
        // A deleted service cannot be scaled.
        try await f.deleteService(cluster: f.primaryCluster, service: "\(f.id)-solo-api", region: AppMotoFixture.primary)
        await refused({ _ = try await f.provider(solo).appScale(AppScaleRequest(region: AppMotoFixture.primary, desired: 1)) },
                      code: .invalidParameter, "INACTIVE")

        let primary = try await f.service()
        XCTAssertEqual(primary.taskDefinitionRevision?.description, "\(f.family):3")
        XCTAssertEqual(primary.desiredCount, 2)
        let dr = try await f.service(in: AppMotoFixture.dr)
        XCTAssertEqual(dr.desiredCount, 0)
    }

    func testScaleAndRollbackFinishWithTheSameResultsUnderInjectedFaults() async throws {
        let clean = try await AppMotoFixture.make()
        try await clean.createApplication()
        let proxy = try FaultProxy(upstream: try Moto.url(), ratio: 0.33, seed: 5, kinds: ["500", "503", "throttle", "drop"])
        defer { proxy.stop() }
        let f = try await clean.through(proxy.url, maxAttempts: 12)
        let provider = try f.provider(wait: WaitSettings(timeout: 120))

        let up1 = try await provider.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 2))
        let up2 = try await provider.appScale(AppScaleRequest(region: AppMotoFixture.dr, desired: 2))
        XCTAssertEqual([up1.previousDesired, up2.previousDesired], [0, 0])
        XCTAssertEqual([up1.changed, up2.changed], [true, false])
        let back1 = try await provider.appRollback(AppRollbackRequest())
        let back2 = try await provider.appRollback(AppRollbackRequest())
        XCTAssertEqual(back1.taskDefinition, back2.taskDefinition)
        XCTAssertEqual(back2.replaced, "\(clean.family):3")
        XCTAssertFalse(back2.changed)

        // Checked without the proxy: one change each, and the service where it should be.
        let dr = try await clean.service(in: AppMotoFixture.dr)
        XCTAssertEqual(dr.desiredCount, 2)
        let running = try await clean.running()
        XCTAssertEqual(running, "\(clean.family):2")
        let tier = try AppTier(provider: provider)
        XCTAssertEqual(tier.history(try tier.location(AppMotoFixture.primary), "task-definition").entries().count, 1)
        XCTAssertEqual(tier.history(try tier.location(AppMotoFixture.dr), "desired").entries().count, 1)
        XCTAssertGreaterThan(try proxy.stats()["faults"] ?? 0, 3, "the proxy really injected faults")
    }
}
