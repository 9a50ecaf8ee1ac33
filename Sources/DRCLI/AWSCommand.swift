import ArgumentParser
import DRAWS
import DRCore
import Foundation

/// `dr aws`: diagnostics for the AWS layer.
struct AWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "AWS diagnostics: which identity, region, endpoints and credential source dr would use.",
        // describe-db-instances (hidden, timed by `make bench`) is in AWSDiagnosticsCommand.swift.
        subcommands: [WhoamiCommand.self, DescribeDBInstancesCommand.self]
    )
}

/// `--profile` and `--region`, shared by every command that talks to AWS.
struct AWSOptions: ParsableArguments {
    @Option(help: "The AWS profile from the shared config/credentials files (default: AWS_PROFILE, then 'default').")
    var profile: String?

    @Option(help: "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region).")
    var region: String?

    /// The process's session for these options (settings, credentials, endpoints); configuration
    /// problems are bad input.
    func session() throws -> AWSSession {
        try AWSSession.standard(profile: profile, region: region, logger: ProgressLog.logger())
    }
}

/// `dr aws whoami`: the resolved account, identity, region, credential source and endpoints.
/// Never prints a secret: only the last four characters of the access key id are shown.
struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the AWS identity, region, endpoints and credential source dr resolves.",
        discussion: "Calls STS GetCallerIdentity. Exit 2 when no credentials or settings are usable, 3 when AWS refuses."
    )

    @OptionGroup var aws: AWSOptions

    @OptionGroup var output: OutputOptions<TextOrJSON>

    func run() async throws {
        let report = try await Self.report(session: aws.session())
        try output.emit(report) { String(report.text.dropLast()) }
    }

    /// Checks the region (the one region check every command uses), resolves credentials (naming
    /// every source tried when none works), then asks STS who they are.
    static func report(session: AWSSession) async throws -> WhoamiReport {
        let region = try session.resolvedRegion()
        let endpoints = try AWSService.all.map { ($0, try session.endpoint(for: $0, region: region.region)) }
        let credentials: AWSCredentials
        let identity: CallerIdentity
        do {
            credentials = try await session.credentials.credentials()
            identity = try await session.sts(region.region).getCallerIdentity()
        } catch let error as AWSError {
            throw error.drError
        } catch let error as NoCredentialsError {
            throw error.drError
        }
        return WhoamiReport(
            account: identity.account, arn: identity.arn, userId: identity.userId,
            credentialSource: await session.credentialSource() ?? "unknown",
            accessKey: WhoamiReport.maskedKey(credentials.accessKeyId),
            temporary: credentials.sessionToken != nil,
            expiration: credentials.expiration.map { RFC3339.format($0) },
            profile: session.configuration.profileName,
            region: region.region,
            regionSource: region.source,
            endpoints: endpoints.map { .init(service: $0.0.serviceID, url: $0.1.url.absoluteString, signingRegion: $0.1.signingRegion, source: $0.1.source) })
    }
}

/// What `dr aws whoami` prints.
struct WhoamiReport: Encodable {
    struct Endpoint: Encodable {
        var service: String
        var url: String
        var signingRegion: String
        var source: String
    }
    var account: String
    var arn: String
    var userId: String
    var credentialSource: String
    var accessKey: String
    var temporary: Bool
    var expiration: String?
    var profile: String
    var region: String
    var regionSource: String
    var endpoints: [Endpoint]

    /// `****************WXYZ`, as `aws configure list` shows it.
    static func maskedKey(_ id: String) -> String {
        id.count <= 4 ? Redact.mask : String(repeating: "*", count: id.count - 4) + id.suffix(4)
    }

    var text: String {
        var lines = [
            "Account:            \(account)",
            "Identity:           \(arn)",
            "Credential source:  \(credentialSource)",
            "Access key:         \(accessKey)" + (temporary ? " (temporary" + (expiration.map { ", expires \($0))" } ?? ")") : ""),
            "Profile:            \(profile)",
            "Region:             \(region) (from \(regionSource))",
            "Endpoints:",
        ]
        let width = endpoints.map(\.service.count).max() ?? 0
        for e in endpoints {
            let signing = e.signingRegion == region ? "" : ", signed for \(e.signingRegion)"
            lines.append("  \(e.service.padding(toLength: width, withPad: " ", startingAt: 0))  \(e.url)  (\(e.source)\(signing))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
