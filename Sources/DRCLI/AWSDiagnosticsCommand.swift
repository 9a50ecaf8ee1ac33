import ArgumentParser
import DRAWS
import DRCore
import Foundation

/// `dr aws ...`: small diagnostic calls (hidden). `describe-db-instances` makes exactly one
/// DescribeDBInstances call; `make bench` times it against the AWS CLI.
/// Until the credential chain and endpoint resolver land (issue 3, part B), this reads the
/// environment directly: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_REGION or
/// AWS_DEFAULT_REGION, and --endpoint-url, AWS_ENDPOINT_URL_RDS or AWS_ENDPOINT_URL.
struct AWSDiagnosticsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws", abstract: "Diagnostic AWS calls.", shouldDisplay: false,
        subcommands: [DescribeDBInstances.self])

    struct DescribeDBInstances: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe-db-instances",
                                                        abstract: "One RDS DescribeDBInstances call; prints one line per instance.")
        @Option(name: .customLong("endpoint-url"), help: "The RDS endpoint URL.") var endpointURL: String?
        @Option(help: "The AWS region.") var region: String?
        @Option(name: .customLong("db-instance-identifier")) var identifier: String?

        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            guard let key = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"] else {
                throw DRError.badInput("Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")
            }
            let region = region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1"
            let endpointText = endpointURL ?? env["AWS_ENDPOINT_URL_RDS"] ?? env["AWS_ENDPOINT_URL"] ?? "https://rds.\(region).amazonaws.com"
            guard let endpoint = URL(string: endpointText), endpoint.host != nil else {
                throw DRError.badInput("Invalid endpoint URL \(endpointText).")
            }
            let rds = RDSClient(config: AWSClientConfig(
                region: region, endpoint: endpoint,
                credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"]),
                                                      name: "environment"),
                transport: CurlTransport()))
            do {
                let page = try await rds.describeDBInstances(identifier: identifier)
                for db in page.items {
                    Terminal.writeStdout("\(db.identifier)\t\(db.status ?? "-")\t\(db.engine ?? "-")\t\(db.endpointAddress ?? "-")\n")
                }
            } catch let error as AWSError {
                throw error.drError
            }
        }
    }
}
