import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// The application tier of a platform in moto (auth on), as an operator would have set it up:
/// in us-east-1 a cluster `<id>-prod` whose service `<id>-api` runs revision 3 of the task
/// definition family `<id>-web` (revisions 1–3 registered) at 2 tasks; in us-west-2 the pilot
/// light, a cluster `<id>-dr` whose service `<id>-api` runs `<id>-web:1` (its images in
/// us-west-2's ECR) at 0 tasks. Names are unique per fixture: tests share one moto.
///
/// moto makes every service stable at once (its running count follows the desired count), so
/// the deployments it cannot show are tested with a fake transport (`AppWaitingTests`).
struct AppMotoFixture {
    let rds: RDSMotoFixture
    var id: String { rds.id }
    var session: RDSSession { rds.session }
    static let account = "123456789012"
    static let primary = RDSMotoFixture.primary, dr = RDSMotoFixture.dr

    var primaryCluster: String { "\(id)-prod" }
    var drCluster: String { "\(id)-dr" }
    var service: String { "\(id)-api" }
    var family: String { "\(id)-web" }
    var app: AppSettings { AppSettings(cluster: primaryCluster, service: service, drCluster: drCluster, drService: service, desired: 0) }

    /// The target's settings with `app:` (and `dr_region`).
    var settings: RDSTargetSettings {
        var s = rds.settings
        s.app = app
        return s
    }

    static func make(endpoint: URL? = nil, maxAttempts: Int = 3) async throws -> AppMotoFixture {
        AppMotoFixture(rds: try await RDSMotoFixture.make(cache: false, endpoint: endpoint, maxAttempts: maxAttempts))
    }

    /// The same platform seen through another endpoint (a fault proxy).
    func through(_ endpoint: URL, maxAttempts: Int) async throws -> AppMotoFixture {
        let other = try await RDSMotoFixture.make(cache: false, endpoint: endpoint, maxAttempts: maxAttempts)
        return AppMotoFixture(rds: RDSMotoFixture(id: id, session: other.session, environment: other.environment, target: rds.target,
                                                  settings: rds.settings, home: rds.home))
    }

    func provider(_ settings: RDSTargetSettings? = nil, wait: WaitSettings = WaitSettings(timeout: 60)) throws -> RDSProvider {
        try rds.provider(settings ?? self.settings, wait: wait)
    }

    func image(_ region: String, _ tag: String) -> String { "\(Self.account).dkr.ecr.\(region).amazonaws.com/\(family):\(tag)" }

    /// Creates both regions' clusters, task definitions and services, and the DR registry's images.
    func createApplication() async throws {
        for revision in 1...3 { try await register(family, image: image(Self.primary, "1.\(revision)"), region: Self.primary) }
        try await register(family, image: image(Self.dr, "1.1"), region: Self.dr)
        try await createCluster(primaryCluster, region: Self.primary)
        try await createCluster(drCluster, region: Self.dr)
        try await createService(cluster: primaryCluster, service: service, taskDefinition: "\(family):3", desired: 2, region: Self.primary)
        try await createService(cluster: drCluster, service: service, taskDefinition: "\(family):1", desired: 0, region: Self.dr)
        try await createRepository(family, region: Self.dr)
        try await putImage(family, tag: "1.1", region: Self.dr)
    }

    struct Container: Encodable { var name: String; var image: String; var memory: Int; var essential: Bool }
    struct RegisterInput: Encodable { var family: String; var containerDefinitions: [Container] }

    func register(_ family: String, image: String, region: String) async throws {
        let request = try AWSRequest.json("RegisterTaskDefinition", RegisterInput(family: family, containerDefinitions: [
            Container(name: "api", image: image, memory: 512, essential: true)]))
        _ = try await session.ecs(region).client.send(request)
    }

    func deregister(_ name: String, region: String = primary) async throws {
        _ = try await session.ecs(region).client.send(try AWSRequest.json("DeregisterTaskDefinition", ["taskDefinition": name]))
    }

    func createCluster(_ name: String, region: String) async throws {
        _ = try await session.ecs(region).client.send(try AWSRequest.json("CreateCluster", ["clusterName": name]))
    }

    struct CreateServiceInput: Encodable { var cluster: String; var serviceName: String; var taskDefinition: String; var desiredCount: Int; var launchType: String }

    /// A service made at 0 tasks and then scaled, as moto reports a service made with tasks as
    /// deploying for ever (it never runs them).
    func createService(cluster: String, service: String, taskDefinition: String, desired: Int, region: String) async throws {
        let ecs = try session.ecs(region)
        _ = try await ecs.client.send(try AWSRequest.json("CreateService", CreateServiceInput(
            cluster: cluster, serviceName: service, taskDefinition: taskDefinition, desiredCount: 0, launchType: "FARGATE")))
        if desired > 0 { _ = try await ecs.updateService(.init(cluster: cluster, service: service, desiredCount: desired)) }
    }

    func deleteService(cluster: String, service: String, region: String) async throws {
        struct Input: Encodable { var cluster: String; var service: String; var force: Bool }
        _ = try await session.ecs(region).client.send(try AWSRequest.json("DeleteService", Input(cluster: cluster, service: service, force: true)))
    }

    func createRepository(_ name: String, region: String) async throws {
        _ = try await session.ecr(region).client.send(try AWSRequest.json("CreateRepository", ["repositoryName": name]))
    }

    func putImage(_ repository: String, tag: String, region: String) async throws {
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:\#(String(repeating: "1", count: 64))"},"layers":[]}"#
        _ = try await session.ecr(region).client.send(try AWSRequest.json("PutImage", ["repositoryName": repository, "imageManifest": manifest, "imageTag": tag]))
    }

    /// The service as moto has it now.
    func service(in region: String = primary, cluster: String? = nil, name: String? = nil) async throws -> ECSService {
        let found = try await session.ecs(region).service(cluster: cluster ?? (region == Self.primary ? primaryCluster : drCluster), name: name ?? service)
        return try XCTUnwrap(found)
    }

    /// The task definition revision the primary service runs.
    func running(in region: String = primary) async throws -> String? {
        try await service(in: region).taskDefinitionRevision?.description
    }
}
