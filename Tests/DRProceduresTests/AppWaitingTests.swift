import DRAWS
import DRCore
@testable import DRProcedures
import Foundation
import XCTest

/// What moto cannot show of the application tier: a rolling deployment that takes time (two
/// deployments, the new one IN_PROGRESS, then COMPLETED), a rollout the circuit breaker fails
/// or rolls back, and timeouts. A fake ECS answers with responses shaped like the API
/// reference's; a `ManualClock` moves only when the wait sleeps.
final class AppWaitingTests: XCTestCase {
    final class FakeECS: HTTPTransport, @unchecked Sendable {
        let lock = NSLock()
        /// DescribeServices answers after the first (the decision's), in order; the last repeats.
        var states: [String]
        var current: String
        var operations: [String] = []
        var updates: [String] = []

        init(current: String, then states: [String]) {
            self.current = current
            self.states = states
        }

        func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
            let operation = String((request.header("X-Amz-Target") ?? "").split(separator: ".").last ?? "")
            let body: String = lock.withLock {
                operations.append(operation)
                switch operation {
                case "DescribeServices":
                    guard operations.contains("UpdateService") else { return #"{"services":[\#(current)],"failures":[]}"# }
                    let next = states.count > 1 ? states.removeFirst() : states[0]
                    return #"{"services":[\#(next)],"failures":[]}"#
                case "ListTaskDefinitions":
                    return #"{"taskDefinitionArns":["arn:aws:ecs:us-east-1:123456789012:task-definition/web:5","arn:aws:ecs:us-east-1:123456789012:task-definition/web:6","arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"]}"#
                case "DescribeTaskDefinition":
                    let name = String(decoding: request.body, as: UTF8.self).split(separator: "\"").dropLast().last ?? ""
                    let parts = name.split(separator: ":")
                    return #"{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/\#(name)","family":"\#(parts[0])","revision":\#(parts[1]),"status":"ACTIVE","containerDefinitions":[{"name":"api","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/web:\#(parts[1])"}]}}"#
                case "UpdateService":
                    updates.append(String(decoding: request.body, as: UTF8.self))
                    return #"{"service":\#(states[0])}"#
                default:
                    return #"{"__type":"InvalidParameterException","message":"unexpected"}"#
                }
            }
            return HTTPResponse(status: body.contains("__type") ? 400 : 200, headers: ["Content-Type": "application/x-amz-json-1.1"], body: Data(body.utf8))
        }
    }

    /// A service in the shape of `DescribeServices`' `services[]`.
    static func service(task: String, running: Int, desired: Int = 2, _ deployments: [(String, String, String)], status: String = "ACTIVE") -> String {
        let items = deployments.enumerated().map { i, d in
            #"{"id":"ecs-svc/\#(i)","status":"\#(d.0)","taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/\#(d.2)","desiredCount":\#(desired),"runningCount":\#(running),"rolloutState":"\#(d.1)","rolloutStateReason":"\#(d.1 == "FAILED" ? "tasks failed to start" : "ok")"}"#
        }.joined(separator: ",")
        return #"{"serviceName":"api","serviceArn":"arn:aws:ecs:us-east-1:123456789012:service/prod/api","status":"\#(status)","desiredCount":\#(desired),"runningCount":\#(running),"taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/\#(task)","deploymentController":{"type":"ECS"},"deployments":[\#(items)]}"#
    }

    let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))

    final class Progress: @unchecked Sendable {
        let lock = NSLock()
        var seen: [String] = []
        func add(_ p: WaitProgress) { lock.withLock { seen.append("\(p.waitingFor): \(p.state ?? "")") } }
    }

    func provider(_ fake: FakeECS, timeout: Double? = nil, progress: Progress? = nil) throws -> RDSProvider {
        let env = AWSEnvironment(variables: ["AWS_ENDPOINT_URL": "https://ecs.test"], homeDirectory: "/nonexistent")
        let session = RDSSession(configuration: try AWSConfiguration(environment: env),
                                 credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRETKEY123456")),
                                 transport: fake, retry: RetryPolicy(maxAttempts: 1), clock: clock)
        let settings = RDSTargetSettings(region: "us-east-1", resource: .instance("src"), drRegion: "us-west-2",
                                         app: AppSettings(cluster: "prod", service: "api", drCluster: "prod-dr"))
        var report: (@Sendable (WaitProgress) -> Void)?
        if let progress { report = { progress.add($0) } }
        let wait = WaitSettings(timeout: timeout, progress: report)
        return try RDSProvider(target: Target(name: "prod-db", provider: .rds(settings)), settings: settings,
                               context: ProviderContext(wait: wait, clock: clock, stateDirectory: NSTemporaryDirectory() + "dr-appwait-\(UUID().uuidString)",
                                                        aws: SharedAWSSession(session)))
    }

    func testARollbackWaitsThroughTheRollingDeploymentUntilItIsCompleted() async throws {
        let fake = FakeECS(current: Self.service(task: "web:7", running: 2, [("PRIMARY", "COMPLETED", "web:7")]), then: [
            Self.service(task: "web:6", running: 2, [("PRIMARY", "IN_PROGRESS", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
            Self.service(task: "web:6", running: 3, [("PRIMARY", "IN_PROGRESS", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
            Self.service(task: "web:6", running: 2, [("PRIMARY", "IN_PROGRESS", "web:6")]),
            Self.service(task: "web:6", running: 2, [("PRIMARY", "COMPLETED", "web:6")]),
        ])
        let progress = Progress()
        let p = try provider(fake, progress: progress)
        let plan = try await p.plan(.appRollback(AppRollbackRequest()))
        XCTAssertEqual(fake.updates, [], "the plan changed nothing")
        XCTAssertEqual(fake.operations, ["DescribeServices", "ListTaskDefinitions"])
        XCTAssertEqual(plan.actions.compactMap(\.call), ["ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:UpdateService", "ecs:DescribeServices"])
        let result = try await p.appRollback(AppRollbackRequest())
        XCTAssertEqual([result.taskDefinition, result.replaced], ["web:6", "web:7"])
        XCTAssertTrue(result.waited)
        XCTAssertEqual(fake.updates, [#"{"cluster":"prod","service":"api","taskDefinition":"web:6"}"#])
        // The run made the plan's calls, then polled until the deployment COMPLETED.
        XCTAssertEqual(Array(fake.operations.dropFirst(2)),
                       ["DescribeServices", "ListTaskDefinitions", "UpdateService"] + Array(repeating: "DescribeServices", count: 4))
        XCTAssertEqual(progress.seen.map { String($0.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces) },
                       ["PRIMARY IN_PROGRESS, 2/2 running, 2 deployments", "PRIMARY IN_PROGRESS, 3/2 running, 2 deployments",
                        "PRIMARY IN_PROGRESS, 2/2 running", "PRIMARY COMPLETED, 2/2 running"])
        XCTAssertTrue(progress.seen[0].hasPrefix("ECS service api in cluster prod to be stable"), progress.seen[0])
        XCTAssertEqual(clock.sleeps.first, 5)
        XCTAssertEqual(clock.sleeps.count, 3)
    }

    func testAFailedRolloutEndsAtOnceWithExit3AndARolledBackDeploymentIsNotCalledASuccess() async throws {
        let failed = FakeECS(current: Self.service(task: "web:7", running: 2, [("PRIMARY", "COMPLETED", "web:7")]), then: [
            Self.service(task: "web:6", running: 2, [("PRIMARY", "IN_PROGRESS", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
            Self.service(task: "web:6", running: 2, [("PRIMARY", "FAILED", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
        ])
        do {
            _ = try await provider(failed).appRollback(AppRollbackRequest())
            XCTFail("a failed rollout must fail the rollback")
        } catch let error as DRError {
            XCTAssertEqual(error.exitStatus, .remote)
            XCTAssertTrue(error.message.contains("its deployment failed: tasks failed to start"), error.message)
        }
        XCTAssertEqual(clock.sleeps, [5], "gave up at the first FAILED")

        // The circuit breaker put the service back on web:7: stable, but not what was asked.
        let undone = FakeECS(current: Self.service(task: "web:7", running: 2, [("PRIMARY", "COMPLETED", "web:7")]), then: [
            Self.service(task: "web:6", running: 1, [("PRIMARY", "IN_PROGRESS", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
            Self.service(task: "web:7", running: 2, [("PRIMARY", "COMPLETED", "web:7")]),
        ])
        do {
            _ = try await provider(undone).appRollback(AppRollbackRequest(to: "web:6"))
            XCTFail("a deployment ECS rolled back is not a rollback")
        } catch let error as DRError {
            XCTAssertEqual(error.exitStatus, .remote)
            XCTAssertTrue(error.message.contains("became stable on web:7, not web:6"), error.message)
        }
    }

    func testAScaleThatNeverSettlesTimesOutWithExit4NamingWhatItLastSaw() async throws {
        let fake = FakeECS(current: Self.service(task: "web:7", running: 0, desired: 0, [("PRIMARY", "COMPLETED", "web:7")]), then: [
            Self.service(task: "web:7", running: 1, desired: 4, [("PRIMARY", "IN_PROGRESS", "web:7")]),
        ])
        let start = clock.now()
        do {
            _ = try await provider(fake, timeout: 300).appScale(AppScaleRequest(region: "us-east-1", desired: 4))
            XCTFail("must time out")
        } catch let error as DRError {
            XCTAssertEqual(error.exitStatus, .timedOut, error.message)
            XCTAssertTrue(error.message.contains("ECS service api in cluster prod to be stable"), error.message)
            XCTAssertTrue(error.message.contains("PRIMARY IN_PROGRESS, 1/4 running"), error.message)
        }
        XCTAssertEqual(fake.updates, [#"{"cluster":"prod","desiredCount":4,"service":"api"}"#])
        XCTAssertLessThanOrEqual(clock.now().timeIntervalSince(start), 300.5)
    }
}
