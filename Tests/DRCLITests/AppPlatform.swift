import DRAWS
import DRCore
import DRTestSupport
import Foundation

/// An application tier in moto for the command-line tests: in us-east-1 a cluster `<id>-prod`
/// whose service `<id>-api` runs revision 3 of the family `<id>-web` (1–3 registered) at 2
/// tasks; in us-west-2 the pilot light, cluster `<id>-dr`, service `<id>-api` on `<id>-web:1`
/// at 0 tasks. moto makes services stable at once.
struct AppPlatform {
    let id: String
    let endpoint: URL
    let credentials: StaticCredentialProvider

    init(id: String) throws {
        let key = try Moto.accessKey()
        self.id = id
        endpoint = try Moto.url()
        credentials = StaticCredentialProvider(AWSCredentials(accessKeyId: key.id, secretAccessKey: key.secret))
    }

    var primaryCluster: String { "\(id)-prod" }
    var drCluster: String { "\(id)-dr" }
    var service: String { "\(id)-api" }
    var family: String { "\(id)-web" }
    /// The `app:` block of the target in dr.yml.
    var block: String { "app: { cluster: \(primaryCluster), service: \(service), dr_cluster: \(drCluster), desired: 0 }" }

    func ecs(_ region: String) -> ECSClient {
        ECSClient(config: AWSClientConfig(region: region, endpoint: endpoint, credentials: credentials, transport: CurlTransport()))
    }

    struct Container: Encodable { var name: String; var image: String; var memory: Int; var essential: Bool }
    struct RegisterInput: Encodable { var family: String; var containerDefinitions: [Container] }
    struct CreateServiceInput: Encodable {
        var cluster: String; var serviceName: String; var taskDefinition: String; var desiredCount: Int; var launchType: String
    }

    func create() async throws {
        for (region, revisions, cluster, revision, desired) in [("us-east-1", 3, primaryCluster, 3, 2), ("us-west-2", 1, drCluster, 1, 0)] {
            let ecs = ecs(region)
            for r in 1...revisions {
                let image = "123456789012.dkr.ecr.\(region).amazonaws.com/\(family):1.\(r)"
                _ = try await ecs.client.send(try AWSRequest.json("RegisterTaskDefinition", RegisterInput(
                    family: family, containerDefinitions: [Container(name: "api", image: image, memory: 512, essential: true)])))
            }
            _ = try await ecs.client.send(try AWSRequest.json("CreateCluster", ["clusterName": cluster]))
            // Made at 0 and then scaled: moto reports a service created with tasks as deploying for ever.
            _ = try await ecs.client.send(try AWSRequest.json("CreateService", CreateServiceInput(
                cluster: cluster, serviceName: service, taskDefinition: "\(family):\(revision)", desiredCount: 0, launchType: "FARGATE")))
            if desired > 0 { _ = try await ecs.updateService(.init(cluster: cluster, service: service, desiredCount: desired)) }
        }
    }

    /// The service in `region` as moto has it now.
    func state(_ region: String = "us-east-1") async throws -> (desired: Int, running: String) {
        let found = try await ecs(region).service(cluster: region == "us-east-1" ? primaryCluster : drCluster, name: service)
        return (found?.desiredCount ?? -1, found?.taskDefinitionRevision?.description ?? "none")
    }
}
