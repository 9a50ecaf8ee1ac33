import ArgumentParser
import DRAWS
import DRCore
import Foundation

/// `dr aws describe-db-instances` (hidden): exactly one DescribeDBInstances call, resolved like
/// every other AWS command (credential chain, region, endpoint settings); `make bench` times it
/// against the AWS CLI. `--endpoint-url` overrides the resolved endpoint, as the CLI's flag does.
struct DescribeDBInstancesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-db-instances",
        abstract: "One RDS DescribeDBInstances call; prints one line per instance.",
        shouldDisplay: false)

    @OptionGroup var aws: AWSOptions
    @Option(name: .customLong("endpoint-url"), help: "The RDS endpoint URL (overrides AWS_ENDPOINT_URL_RDS and the config).")
    var endpointURL: String?
    @Option(name: .customLong("db-instance-identifier")) var identifier: String?

    func run() async throws {
        var config = try aws.session().clientConfig(.rds)
        if let endpointURL {
            guard let url = URL(string: endpointURL), url.scheme != nil, url.host != nil else {
                throw DRError.badInput("--endpoint-url \(endpointURL) is not a URL; write it like https://rds.us-east-1.amazonaws.com.")
            }
            config.endpoint = url
        }
        do {
            for db in try await RDSClient(config: config).describeDBInstances(identifier: identifier).items {
                Terminal.writeStdout("\(db.identifier)\t\(db.status ?? "-")\t\(db.engine ?? "-")\t\(db.endpointAddress ?? "-")\n")
            }
        } catch let error as AWSError {
            throw error.drError
        }
    }
}
