import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// `dr app scale` and `dr app rollback` through the built binary against moto (auth on):
/// plans that show "currently → will be" and change nothing, runs in text and JSON with the undo
/// command, re-runs that change nothing, every refusal as exit 2 with a one-paragraph message
/// worded for the command line.
final class AppCommandTests: XCTestCase {
    var dir = "", config = ""
    var env: [String: String] = [:]
    var app: AppPlatform!

    override func setUp() async throws {
        let id = "ap" + UUID().uuidString.prefix(6).lowercased()
        app = try AppPlatform(id: id)
        try await app.create()
        dir = NSTemporaryDirectory() + "dr-appcli-\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let key = try Moto.accessKey()
        config = dir + "/dr.yml"
        try """
        targets:
          \(id):
            provider: rds
            region: us-east-1
            instance: \(id)-db
            dr_region: us-west-2
            \(app.block)
          \(id)-noapp:
            provider: rds
            region: us-east-1
            instance: \(id)-db
          \(id)-pg:
            provider: postgres
            conninfo: host=127.0.0.1 port=9 dbname=app
            repository: \(dir)/repo
        """.write(toFile: config, atomically: true, encoding: .utf8)
        env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": try Moto.url().absoluteString, "HOME": dir, "DR_STATE_DIR": dir + "/state", "DR_CONFIG": config]
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func dr(_ arguments: [String]) throws -> ProcessResult { try DRBinary.run(arguments, environment: env) }

    func json(_ result: ProcessResult) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func testScaleAndRollbackPlanRunRerunAndUndo() async throws {
        let id = app.id, family = app.family
        let plan = try dr(["app", "rollback", id, "--plan"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("currently \(family):3 → will be \(family):2"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("ecs:UpdateService"), plan.stdout)
        let untouched = try await app.state()
        XCTAssertEqual(untouched.running, "\(family):3", "the plan changed nothing")

        let rolled = try dr(["app", "rollback", id, "--output", "json"])
        XCTAssertEqual(rolled.status, 0, rolled.stderr)
        let result = json(rolled)
        XCTAssertEqual(result["task_definition"] as? String, "\(family):2")
        XCTAssertEqual(result["replaced"] as? String, "\(family):3")
        XCTAssertEqual(result["changed"] as? Bool, true)
        let after = try await app.state()
        XCTAssertEqual(after.running, "\(family):2")
        let again = try dr(["app", "rollback", id])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already runs \(family):2; nothing was changed."), again.stdout)
        XCTAssertTrue(again.stdout.contains("to undo: dr app rollback \(id) --to \(family):3"), again.stdout)

        let scalePlan = try dr(["app", "scale", id, "--region", "us-west-2", "--desired", "3", "--plan", "--output", "json"])
        XCTAssertEqual(scalePlan.status, 0, scalePlan.stderr)
        XCTAssertTrue(scalePlan.stdout.contains("currently 0 → will be 3"), scalePlan.stdout)
        let up = try dr(["app", "scale", id, "--region", "us-west-2", "--desired", "3", "--timeout", "60"])
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("Scaled ECS service \(app.service) (cluster \(app.drCluster), us-west-2) from 0 to 3 tasks."), up.stdout)
        XCTAssertTrue(up.stdout.contains("stable: 3/3 running"), up.stdout)
        XCTAssertTrue(up.stdout.contains("to undo: dr app scale \(id) --region us-west-2 --desired 0"), up.stdout)
        let dr3 = try await app.state("us-west-2")
        XCTAssertEqual(dr3.desired, 3)
        let rerun = try dr(["app", "scale", id, "--region", "us-west-2", "--desired", "3", "--output", "json"])
        XCTAssertEqual(json(rerun)["changed"] as? Bool, false, rerun.stdout + rerun.stderr)
        XCTAssertEqual(json(rerun)["previous_desired"] as? Int, 0, "a re-run still knows the count to scale back to")
        let down = try dr(["app", "scale", id, "--region", "us-west-2", "--desired", "0"])
        XCTAssertEqual(down.status, 0, down.stderr)
        let dr0 = try await app.state("us-west-2")
        XCTAssertEqual(dr0.desired, 0)
        let primary = try await app.state()
        XCTAssertEqual(primary.desired, 2, "the primary region's service is its own")
    }

    func testEveryRefusalIsExit2WithOneParagraphAndNothingChanged() async throws {
        let id = app.id, family = app.family
        let cases: [([String], [String])] = [
            (["app", "scale", id, "--region", "eu-west-1", "--desired", "1"], ["--region eu-west-1", "us-east-1", "us-west-2"]),
            (["app", "scale", id, "--region", "us-west-2", "--desired", "-1"], ["--desired"]),
            (["app", "rollback", id, "--to", "\(id)-other:1"], ["family \(id)-other", "runs \(family):3"]),
            (["app", "rollback", id, "--to", "99", "--plan"], ["\(family):99", "--to"]),
            (["app", "rollback", id, "--to", "last week"], ["--to \"last week\""]),
            (["app", "scale", "\(id)-noapp", "--region", "us-east-1", "--desired", "1"], ["no `app:`"]),
            (["app", "rollback", "\(id)-pg"], ["provider postgres", "no application tier"]),
            (["app", "rollback", "\(id)-nope"], ["\(id)-nope"]),
        ]
        for (arguments, words) in cases {
            let result = try dr(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("Stack"), result.stderr)
            for w in words { XCTAssertTrue(result.stderr.contains(w), "\(arguments): \(w) in \(result.stderr)") }
        }
        let asJSON = try dr(["app", "scale", id, "--region", "eu-west-1", "--desired", "1", "--output", "json"])
        XCTAssertEqual(asJSON.status, 2)
        XCTAssertEqual((json(asJSON)["error"] as? [String: Any])?["category"] as? String, "badInput", asJSON.stdout)
        let primary = try await app.state(), dr = try await app.state("us-west-2")
        XCTAssertEqual([primary.running, dr.running], ["\(family):3", "\(family):1"])
        XCTAssertEqual([primary.desired, dr.desired], [2, 0])
    }
}
