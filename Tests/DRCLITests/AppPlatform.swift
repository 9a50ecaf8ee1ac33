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

/// A health endpoint on 127.0.0.1 (Python): answers `GET` with 503 to the first `failures`
/// requests (an application still registering with its load balancer), then 200.
final class HealthServer {
    let url: String
    private let process: Process

    init(folder: String, failures: Int) throws {
        let portFile = folder + "/health.port"
        let script = """
        import http.server, sys
        left = [int(sys.argv[2])]
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                code = 503 if left[0] > 0 else 200
                left[0] -= 1
                self.send_response(code); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')
            def log_message(self, *args):
                pass
        s = http.server.HTTPServer(('127.0.0.1', 0), H)
        open(sys.argv[1] + '.tmp', 'w').write(str(s.server_address[1]))
        import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])
        s.serve_forever()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, portFile, String(failures)]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard Date() < deadline, process.isRunning else { process.terminate(); throw TestClusterError("the health server did not start") }
            usleep(20_000)
        }
        url = "http://127.0.0.1:\(try String(contentsOfFile: portFile, encoding: .utf8))/health"
        self.process = process
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
