@testable import DRAWS
import DRCore
import Foundation
import XCTest

/// The ECS and ECR clients with fixed vectors and a scripted transport: names and references
/// parsed as ECS and container runtimes read them, the JSON 1.1 envelope of every call, and the
/// `services-stable` rules of the wait, through states moto does not model (a rolling
/// deployment IN_PROGRESS, then COMPLETED; a failed rollout) on a `ManualClock`.
final class ECSTests: XCTestCase {
    func testTaskDefinitionRevisionsParseFromShortNamesAndARNs() {
        XCTAssertEqual(TaskDefinitionRevision("web:7"), TaskDefinitionRevision(family: "web", revision: 7))
        XCTAssertEqual(TaskDefinitionRevision("arn:aws:ecs:us-east-1:123456789012:task-definition/api_v2-x:12")?.description, "api_v2-x:12")
        XCTAssertEqual(TaskDefinitionRevision("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web:3")?.revision, 3)
        for bad in ["web", "web:", "web:0", "web:-1", ":3", "we b:3", "web:3:4", "web:x", ""] {
            XCTAssertNil(TaskDefinitionRevision(bad), bad)
        }
        XCTAssertLessThan(TaskDefinitionRevision("web:9")!, TaskDefinitionRevision("web:10")!)
    }

    func testECRImageReferencesParseAndEverythingElseIsNotECR() throws {
        let tagged = try XCTUnwrap(ECRImageReference("123456789012.dkr.ecr.us-west-2.amazonaws.com/team/web:1.4.2"))
        XCTAssertEqual([tagged.registryId, tagged.region, tagged.repository, tagged.tag], ["123456789012", "us-west-2", "team/web", "1.4.2"])
        XCTAssertEqual(tagged.imageId, ECRImageId(imageTag: "1.4.2"))
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let pinned = try XCTUnwrap(ECRImageReference("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/web:1.0@\(digest)"))
        XCTAssertEqual(pinned.imageId, ECRImageId(imageDigest: digest), "a digest pins the image whatever the tag says")
        XCTAssertEqual(pinned.region, "us-east-1")
        XCTAssertEqual(ECRImageReference("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web")?.tag, "latest", "no tag means latest")
        XCTAssertEqual(ECRImageReference("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@\(digest)")?.tag, nil)
        for other in ["nginx:1.25", "library/nginx", "public.ecr.aws/nginx/nginx:1", "ghcr.io/org/app:2", "localhost:5000/app:1",
                      "12345.dkr.ecr.us-east-1.amazonaws.com/web:1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:"] {
            XCTAssertNil(ECRImageReference(other), other)
        }
    }

    static func service(status: String = "ACTIVE", desired: Int = 2, running: Int = 2, task: String = "web:6",
                        _ deployments: [ECSDeployment]) -> ECSService {
        ECSService(serviceName: "api", status: status, desiredCount: desired, runningCount: running,
                   taskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/\(task)", deployments: deployments)
    }

    func testStableMeansOnePrimaryDeploymentEveryTaskRunningAndTheRolloutCompleted() {
        let primary = ECSDeployment(status: "PRIMARY", rolloutState: "COMPLETED")
        XCTAssertTrue(ServiceStability.isStable(Self.service([primary])))
        XCTAssertTrue(ServiceStability.isStable(Self.service([ECSDeployment(status: "PRIMARY")])), "no rollout state reported: the SDK's rules alone")
        XCTAssertTrue(ServiceStability.isStable(Self.service(desired: 0, running: 0, [primary])))
        XCTAssertFalse(ServiceStability.isStable(Self.service(running: 1, [primary])))
        XCTAssertFalse(ServiceStability.isStable(Self.service([ECSDeployment(status: "PRIMARY", rolloutState: "IN_PROGRESS")])))
        XCTAssertFalse(ServiceStability.isStable(Self.service([primary, ECSDeployment(status: "ACTIVE")])), "the old deployment still runs")
        XCTAssertFalse(ServiceStability.isStable(Self.service([ECSDeployment(status: "ACTIVE")])))
        XCTAssertFalse(ServiceStability.isStable(Self.service(status: "DRAINING", [primary])))
        XCTAssertNil(ServiceStability.failure(Self.service([primary])))
        XCTAssertEqual(ServiceStability.failure(nil), "the service does not exist (MISSING)")
        XCTAssertEqual(ServiceStability.failure(Self.service(status: "INACTIVE", [primary])), "the service is INACTIVE")
        XCTAssertEqual(ServiceStability.failure(Self.service([ECSDeployment(status: "PRIMARY", rolloutState: "FAILED", rolloutStateReason: "tasks failed to start")])),
                       "its deployment failed: tasks failed to start")
        XCTAssertEqual(ServiceStability.state(Self.service(running: 1, [ECSDeployment(status: "PRIMARY", rolloutState: "IN_PROGRESS"), ECSDeployment(status: "ACTIVE")])),
                       "PRIMARY IN_PROGRESS, 1/2 running, 2 deployments")
    }

    /// ECS answers in the shape of its API reference: DescribeServices from a script.
    final class FakeECS: HTTPTransport, @unchecked Sendable {
        let lock = NSLock()
        var answers: [String]
        var sent: [(target: String, body: String)] = []
        init(_ answers: [String]) { self.answers = answers }

        func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
            let body: String = lock.withLock {
                sent.append((request.header("X-Amz-Target") ?? "", String(decoding: request.body, as: UTF8.self)))
                return answers.count > 1 ? answers.removeFirst() : answers[0]
            }
            return HTTPResponse(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r1"], body: Data(body.utf8))
        }
    }

    static func describe(running: Int, desired: Int = 2, _ deployments: [(status: String, rollout: String, task: String)],
                         status: String = "ACTIVE") -> String {
        #"{"services":[\#(serviceJSON(running: running, desired: desired, deployments, status: status))],"failures":[]}"#
    }

    static func serviceJSON(running: Int, desired: Int = 2, _ deployments: [(status: String, rollout: String, task: String)],
                            status: String = "ACTIVE") -> String {
        let items = deployments.enumerated().map { i, d in
            #"{"id":"ecs-svc/\#(i)","status":"\#(d.status)","taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/\#(d.task)","desiredCount":\#(desired),"runningCount":\#(running),"pendingCount":0,"failedTasks":0,"rolloutState":"\#(d.rollout)","rolloutStateReason":"ECS deployment ecs-svc/\#(i) \#(d.rollout.lowercased()).","createdAt":1.8E9,"updatedAt":1.8E9}"#
        }.joined(separator: ",")
        return #"{"serviceArn":"arn:aws:ecs:us-east-1:123456789012:service/prod/api","serviceName":"api","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","status":"\#(status)","desiredCount":\#(desired),"runningCount":\#(running),"pendingCount":\#(desired - running),"launchType":"FARGATE","taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/\#(deployments.first?.task ?? "web:6")","deploymentController":{"type":"ECS"},"deployments":[\#(items)],"createdAt":1.7E9}"#
    }

    func client(_ fake: FakeECS, clock: ManualClock) -> ECSClient {
        var config = Fixtures.config(fake, clock: clock)
        config.endpoint = URL(string: "https://ecs.us-east-1.amazonaws.com")!
        return ECSClient(config: config)
    }

    func testTheWaitFollowsARollingDeploymentFromInProgressToCompleted() async throws {
        let clock = ManualClock()
        let fake = FakeECS([
            Self.describe(running: 2, [("PRIMARY", "IN_PROGRESS", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
            Self.describe(running: 1, [("PRIMARY", "IN_PROGRESS", "web:6"), ("ACTIVE", "COMPLETED", "web:7")]),
            Self.describe(running: 2, [("PRIMARY", "IN_PROGRESS", "web:6")]),
            Self.describe(running: 2, [("PRIMARY", "COMPLETED", "web:6")]),
        ])
        final class Seen: @unchecked Sendable { var states: [String] = [] }
        let seen = Seen()
        let stable = try await client(fake, clock: clock).waitForServiceStable(cluster: "prod", service: "api", timeout: 600) {
            seen.states.append($0.state ?? "")
        }
        XCTAssertEqual(stable.taskDefinitionRevision?.description, "web:6")
        XCTAssertEqual(seen.states, ["PRIMARY IN_PROGRESS, 2/2 running, 2 deployments", "PRIMARY IN_PROGRESS, 1/2 running, 2 deployments",
                                     "PRIMARY IN_PROGRESS, 2/2 running", "PRIMARY COMPLETED, 2/2 running"])
        XCTAssertEqual(clock.sleeps.first, 5, "the first poll again within 5 s")
        XCTAssertEqual(clock.sleeps.count, 3)
        XCTAssertTrue(clock.sleeps.allSatisfy { $0 >= 5 && $0 <= 30 }, "\(clock.sleeps)")
        XCTAssertEqual(fake.sent.map(\.target), Array(repeating: "AmazonEC2ContainerServiceV20141113.DescribeServices", count: 4))
        XCTAssertEqual(fake.sent.first?.body, #"{"cluster":"prod","services":["api"]}"#)
    }

    func testAFailedRolloutOrADrainingServiceEndsTheWaitAtOnce() async throws {
        for answer in [Self.describe(running: 0, [("PRIMARY", "FAILED", "web:7"), ("ACTIVE", "COMPLETED", "web:6")]),
                       Self.describe(running: 2, [("PRIMARY", "COMPLETED", "web:6")], status: "DRAINING"),
                       #"{"services":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:service/prod/api","reason":"MISSING"}]}"#] {
            let clock = ManualClock()
            do {
                try await client(FakeECS([Self.describe(running: 1, [("PRIMARY", "IN_PROGRESS", "web:7")]), answer]), clock: clock)
                    .waitForServiceStable(cluster: "prod", service: "api", timeout: 600)
                XCTFail("must give up")
            } catch let error as WaiterError {
                XCTAssertEqual(error.kind, .failureState, answer)
                XCTAssertEqual(error.drError.exitStatus, .remote)
                XCTAssertEqual(clock.sleeps, [5], "gave up at the first hopeless answer")
            }
        }
    }

    func testATimeoutSaysWhatItWaitedForAndWhatItLastSaw() async throws {
        let clock = ManualClock()
        do {
            try await client(FakeECS([Self.describe(running: 1, [("PRIMARY", "IN_PROGRESS", "web:7"), ("ACTIVE", "COMPLETED", "web:6")])]), clock: clock)
                .waitForServiceStable(cluster: "prod", service: "api", timeout: 120)
            XCTFail("must time out")
        } catch let error as WaiterError {
            XCTAssertEqual(error.drError.exitStatus, .timedOut)
            XCTAssertTrue(error.description.contains("ECS service api in cluster prod to be stable"), error.description)
            XCTAssertTrue(error.description.contains("PRIMARY IN_PROGRESS, 1/2 running, 2 deployments"), error.description)
        }
        XCTAssertLessThanOrEqual(clock.sleeps.reduce(0, +), 120.5)
    }

    func testRequestsAreJSON11WithTheirTargetsAndOnlyTheMembersGiven() async throws {
        let clock = ManualClock()
        let fake = FakeECS([#"{"service":\#(Self.serviceJSON(running: 2, [("PRIMARY", "IN_PROGRESS", "web:6")]))}"#,
                            #"{"taskDefinition":{"family":"web","revision":6,"status":"INACTIVE","containerDefinitions":[{"name":"api","image":"123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.2"}]}}"#,
                            #"{"taskDefinitionArns":["arn:aws:ecs:us-east-1:123456789012:task-definition/web:5","arn:aws:ecs:us-east-1:123456789012:task-definition/web-worker:9"],"nextToken":"t2"}"#,
                            #"{"taskDefinitionArns":["arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"]}"#])
        let ecs = client(fake, clock: clock)
        let updated = try await ecs.updateService(.init(cluster: "prod", service: "api", taskDefinition: "web:6"))
        XCTAssertEqual(updated.primaryDeployment?.rolloutState, "IN_PROGRESS")
        let definition = try await ecs.describeTaskDefinition("web:6")
        XCTAssertEqual(definition.status, "INACTIVE")
        XCTAssertEqual(definition.images, ["123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.2"])
        let revisions = try await ecs.revisions(of: "web")
        XCTAssertEqual(revisions.map(\.description), ["web:3", "web:5"], "every page, this family only, oldest first")
        XCTAssertEqual(fake.sent.map(\.body), [#"{"cluster":"prod","service":"api","taskDefinition":"web:6"}"#, #"{"taskDefinition":"web:6"}"#,
                                               #"{"familyPrefix":"web","status":"ACTIVE"}"#, #"{"familyPrefix":"web","nextToken":"t2","status":"ACTIVE"}"#])
        XCTAssertEqual(fake.sent.map(\.target).first, "AmazonEC2ContainerServiceV20141113.UpdateService")

        let ecrFake = FakeECS([#"{"imageDetails":[{"registryId":"123456789012","repositoryName":"team/web","imageDigest":"sha256:00","imageTags":["1.2"],"imagePushedAt":1.7E9}]}"#])
        var config = Fixtures.config(ecrFake, clock: clock)
        config.endpoint = URL(string: "https://api.ecr.us-west-2.amazonaws.com")!
        let image = try await ECRClient(config: config).image(try XCTUnwrap(ECRImageReference("123456789012.dkr.ecr.us-west-2.amazonaws.com/team/web:1.2")))
        XCTAssertEqual(image?.imageTags, ["1.2"])
        XCTAssertEqual(ecrFake.sent.first?.target, "AmazonEC2ContainerRegistry_V20150921.DescribeImages")
        XCTAssertEqual(ecrFake.sent.first?.body, #"{"imageIds":[{"imageTag":"1.2"}],"registryId":"123456789012","repositoryName":"team\/web"}"#)
    }

    func testTheEndpointsAreTheSDKsOnes() throws {
        let configuration = try AWSConfiguration(environment: AWSEnvironment(variables: [:], homeDirectory: "/nonexistent"))
        XCTAssertEqual(try configuration.resolveEndpoint(for: .ecs, region: "eu-west-1").url.absoluteString, "https://ecs.eu-west-1.amazonaws.com")
        XCTAssertEqual(try configuration.resolveEndpoint(for: .ecr, region: "eu-west-1").url.absoluteString, "https://api.ecr.eu-west-1.amazonaws.com")
        XCTAssertEqual(AWSService.ecr.endpointVariable, "AWS_ENDPOINT_URL_ECR")
    }
}
