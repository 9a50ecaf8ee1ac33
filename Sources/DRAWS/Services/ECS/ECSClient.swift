import Foundation

/// Amazon ECS (JSON 1.1, target prefix `AmazonEC2ContainerServiceV20141113`): the calls the
/// application tier needs — read a service and its deployments, change its desired count or
/// task definition, read and list task definition revisions.
public struct ECSClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .ecs, config: config) }

    // MARK: Services

    struct DescribeServicesInput: Encodable {
        var cluster: String
        var services: [String]
    }

    public struct DescribeServicesOutput: Sendable, Decodable {
        public var services: [ECSService]
        public var failures: [ECSFailure]

        enum CodingKeys: String, CodingKey { case services, failures }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            services = try c.decodeIfPresent([ECSService].self, forKey: .services) ?? []
            failures = try c.decodeIfPresent([ECSFailure].self, forKey: .failures) ?? []
        }
    }

    /// `DescribeServices` of up to 10 services of `cluster` (name or ARN). Services that do not
    /// exist come back in `failures` with reason `MISSING`; a cluster that does not exist is an
    /// error (`ClusterNotFoundException`).
    public func describeServices(cluster: String, services: [String]) async throws -> DescribeServicesOutput {
        try await client.send(try AWSRequest.json("DescribeServices", DescribeServicesInput(cluster: cluster, services: services)))
            .decode(DescribeServicesOutput.self)
    }

    /// One service, or nil when ECS reports it `MISSING`.
    public func service(cluster: String, name: String) async throws -> ECSService? {
        let out = try await describeServices(cluster: cluster, services: [name])
        return out.services.first { $0.serviceName == name || $0.serviceArn == name } ?? out.services.first
    }

    /// What `UpdateService` may change here: the desired count and the task definition.
    public struct UpdateServiceInput: Sendable, Equatable, Encodable {
        public var cluster: String
        public var service: String
        public var desiredCount: Int?
        /// `family:revision` or an ARN.
        public var taskDefinition: String?

        public init(cluster: String, service: String, desiredCount: Int? = nil, taskDefinition: String? = nil) {
            self.cluster = cluster
            self.service = service
            self.desiredCount = desiredCount
            self.taskDefinition = taskDefinition
        }
    }

    struct UpdateServiceOutput: Decodable { var service: ECSService }

    /// `UpdateService`: the service as ECS answers right after the change (a new task
    /// definition starts a new PRIMARY deployment; a count alone changes the current one).
    public func updateService(_ input: UpdateServiceInput) async throws -> ECSService {
        try await client.send(try AWSRequest.json("UpdateService", input)).decode(UpdateServiceOutput.self).service
    }

    // MARK: Task definitions

    struct DescribeTaskDefinitionInput: Encodable { var taskDefinition: String }
    struct DescribeTaskDefinitionOutput: Decodable { var taskDefinition: ECSTaskDefinition }

    /// `DescribeTaskDefinition` of `family:revision`, a family (its newest ACTIVE revision) or an ARN.
    /// A revision that does not exist is a `ClientException` ("Unable to describe task definition").
    public func describeTaskDefinition(_ name: String) async throws -> ECSTaskDefinition {
        try await client.send(try AWSRequest.json("DescribeTaskDefinition", DescribeTaskDefinitionInput(taskDefinition: name)))
            .decode(DescribeTaskDefinitionOutput.self).taskDefinition
    }

    struct ListTaskDefinitionsInput: Encodable {
        var familyPrefix: String?
        var status: String?
        var sort: String?
        var nextToken: String?
    }

    struct ListTaskDefinitionsOutput: Decodable {
        var taskDefinitionArns: [String]?
        var nextToken: String?
    }

    /// One page of `ListTaskDefinitions`: the ARNs of the revisions whose family starts with
    /// `familyPrefix`, with `status` (`ACTIVE`, `INACTIVE`).
    public func listTaskDefinitions(familyPrefix: String?, status: String? = nil, newestFirst: Bool = false,
                                    nextToken: String? = nil) async throws -> Paginator.Page<String, String> {
        let input = ListTaskDefinitionsInput(familyPrefix: familyPrefix, status: status, sort: newestFirst ? "DESC" : nil, nextToken: nextToken)
        let out = try await client.send(try AWSRequest.json("ListTaskDefinitions", input)).decode(ListTaskDefinitionsOutput.self)
        return Paginator.Page(items: out.taskDefinitionArns ?? [], next: out.nextToken)
    }

    /// Every revision of exactly `family` with `status`, oldest first (`familyPrefix` is a
    /// prefix: other families it matches are left out).
    public func revisions(of family: String, status: String = "ACTIVE") async throws -> [TaskDefinitionRevision] {
        let arns = try await Paginator.collect { try await listTaskDefinitions(familyPrefix: family, status: status, nextToken: $0) }
        return arns.compactMap(TaskDefinitionRevision.init).filter { $0.family == family }.sorted()
    }
}
