@testable import DRProcedures
import DRCore
import XCTest

/// The `app:` block of an rds target in dr.yml: ECS names for both regions and the DR
/// service's desired count, with every mistake refused at its line and column.
final class AppConfigTests: XCTestCase {
    let file = "/etc/dr/dr.yml"

    func target(_ app: String, drRegion: Bool = true) -> String {
        """
        targets:
          prod-db:
            provider: rds
            region: us-east-1
            instance: social-analytics-db
        \(drRegion ? "    dr_region: us-west-2\n" : "")    app: \(app)
        """
    }

    func settings(_ yaml: String) throws -> RDSTargetSettings {
        guard case .rds(let rds) = try ConfigLoader.parse(yaml, file: file).target(named: "prod-db").provider else {
            throw DRError.badInput("not rds")
        }
        return rds
    }

    func testTheBlockWithItsDefaults() throws {
        let full = try settings(target("{ cluster: prod, service: api, dr_cluster: prod-dr, dr_service: api-dr, desired: 2 }"))
        XCTAssertEqual(full.app, AppSettings(cluster: "prod", service: "api", drCluster: "prod-dr", drService: "api-dr", desired: 2))
        let short = try settings(target("{ cluster: arn:aws:ecs:us-east-1:123456789012:cluster/prod, service: api }"))
        XCTAssertEqual(short.app?.drCluster, "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "the DR names default to the same ones")
        XCTAssertEqual(short.app?.drService, "api")
        XCTAssertEqual(short.app?.desired, 0, "a pilot light by default")
        let rollbackOnly = try settings(target("{ cluster: prod, service: api }", drRegion: false))
        XCTAssertEqual(rollbackOnly.app?.service, "api")
        let summary = try ConfigLoader.parse(target("{ cluster: prod, service: api, desired: 1 }"), file: file).targets[0].summary
        XCTAssertEqual(summary["app.dr_cluster"], "prod")
        XCTAssertEqual(summary["app.desired"], "1")
    }

    func testMistakesAreRefusedAtTheirLineAndColumn() {
        let cases: [(String, Bool, [String])] = [
            ("{ cluster: prod }", true, ["/etc/dr/dr.yml:7:10:", "missing the required key \"service\""]),
            ("{ cluster: prod, service: api, replicas: 2 }", true, ["/etc/dr/dr.yml:7:41:", "unknown key \"replicas\"", "dr_cluster"]),
            ("{ cluster: prod, service: \"api web\" }", true, ["/etc/dr/dr.yml:7:36:", "app.service is \"api web\""]),
            ("{ cluster: prod, service: api, desired: -1 }", true, ["app.desired must be at least 0"]),
            ("{ cluster: prod, service: api, desired: two }", true, ["app.desired must be a whole number"]),
            ("{ cluster: prod, service: api, dr_service: api-dr }", false, ["/etc/dr/dr.yml:6:53:", "no `dr_region:`"]),
            ("{ cluster: prod, service: api, desired: 1 }", false, ["no `dr_region:`"]),
            ("prod", true, ["app must be a mapping"]),
        ]
        for (app, drRegion, parts) in cases {
            XCTAssertThrowsError(try settings(target(app, drRegion: drRegion)), app) { error in
                guard let e = error as? DRError else { return XCTFail("not a DRError: \(error)") }
                XCTAssertEqual(e.category, .badInput)
                for p in parts { XCTAssertTrue(e.message.contains(p), "\(e.message) lacks \(p)") }
            }
        }
    }
}
