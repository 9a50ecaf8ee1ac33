import Foundation

/// One revision of a task definition family, as ECS names it: `family:revision`. Parsed from
/// the short form or from an ARN (`arn:aws:ecs:REGION:ACCOUNT:task-definition/family:7`).
public struct TaskDefinitionRevision: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var family: String
    public var revision: Int

    public init(family: String, revision: Int) {
        self.family = family
        self.revision = revision
    }

    /// `family:7` or a task definition ARN; nil for anything else (a family without a revision).
    public init?(_ text: String) {
        let name = text.hasPrefix("arn:") ? String(text.split(separator: "/", maxSplits: 1).last ?? "") : text
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let revision = Int(parts[1]), revision >= 1, Self.isFamily(String(parts[0])) else { return nil }
        self.init(family: String(parts[0]), revision: revision)
    }

    /// ECS's rule for a family name: up to 255 letters, digits, hyphens and underscores.
    public static func isFamily(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 255 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    public var description: String { "\(family):\(revision)" }

    public static func < (a: Self, b: Self) -> Bool { (a.family, a.revision) < (b.family, b.revision) }
}

/// An ECS service as `DescribeServices` returns it (the members dr reads).
public struct ECSService: Sendable, Equatable, Decodable {
    public var serviceArn: String?
    public var serviceName: String
    public var clusterArn: String?
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    public var status: String?
    public var desiredCount: Int
    public var runningCount: Int
    public var pendingCount: Int?
    /// The task definition the service runs (an ARN; emulators may answer `family:revision`).
    public var taskDefinition: String?
    public var deployments: [ECSDeployment]
    public var deploymentController: DeploymentController?
    public var launchType: String?

    public struct DeploymentController: Sendable, Equatable, Decodable {
        /// `ECS` (rolling updates), `CODE_DEPLOY` (blue/green) or `EXTERNAL`.
        public var type: String
    }

    public init(serviceName: String, status: String?, desiredCount: Int, runningCount: Int, taskDefinition: String?,
                deployments: [ECSDeployment], serviceArn: String? = nil, clusterArn: String? = nil, pendingCount: Int? = nil,
                deploymentController: DeploymentController? = nil, launchType: String? = nil) {
        self.serviceName = serviceName
        self.status = status
        self.desiredCount = desiredCount
        self.runningCount = runningCount
        self.taskDefinition = taskDefinition
        self.deployments = deployments
        self.serviceArn = serviceArn
        self.clusterArn = clusterArn
        self.pendingCount = pendingCount
        self.deploymentController = deploymentController
        self.launchType = launchType
    }

    enum CodingKeys: String, CodingKey {
        case serviceArn, serviceName, clusterArn, status, desiredCount, runningCount, pendingCount, taskDefinition, deployments,
             deploymentController, launchType
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        serviceArn = try c.decodeIfPresent(String.self, forKey: .serviceArn)
        serviceName = try c.decodeIfPresent(String.self, forKey: .serviceName) ?? ""
        clusterArn = try c.decodeIfPresent(String.self, forKey: .clusterArn)
        status = try c.decodeIfPresent(String.self, forKey: .status)
        desiredCount = try c.decodeIfPresent(Int.self, forKey: .desiredCount) ?? 0
        runningCount = try c.decodeIfPresent(Int.self, forKey: .runningCount) ?? 0
        pendingCount = try c.decodeIfPresent(Int.self, forKey: .pendingCount)
        taskDefinition = try c.decodeIfPresent(String.self, forKey: .taskDefinition)
        deployments = try c.decodeIfPresent([ECSDeployment].self, forKey: .deployments) ?? []
        deploymentController = try c.decodeIfPresent(DeploymentController.self, forKey: .deploymentController)
        launchType = try c.decodeIfPresent(String.self, forKey: .launchType)
    }

    /// The deployment ECS is rolling out (the one with status `PRIMARY`).
    public var primaryDeployment: ECSDeployment? { deployments.first { $0.status == "PRIMARY" } }

    /// The task definition revision the service runs, when its name parses.
    public var taskDefinitionRevision: TaskDefinitionRevision? { taskDefinition.flatMap(TaskDefinitionRevision.init) }
}

/// One deployment of a service: `PRIMARY` (the newest), `ACTIVE` (an older one still running
/// tasks) or `INACTIVE`; its rollout `IN_PROGRESS`, `COMPLETED` or `FAILED`.
public struct ECSDeployment: Sendable, Equatable, Decodable {
    public var id: String?
    public var status: String?
    public var taskDefinition: String?
    public var desiredCount: Int?
    public var runningCount: Int?
    public var pendingCount: Int?
    public var failedTasks: Int?
    public var rolloutState: String?
    public var rolloutStateReason: String?

    public init(id: String? = nil, status: String?, taskDefinition: String? = nil, desiredCount: Int? = nil, runningCount: Int? = nil,
                pendingCount: Int? = nil, failedTasks: Int? = nil, rolloutState: String? = nil, rolloutStateReason: String? = nil) {
        self.id = id
        self.status = status
        self.taskDefinition = taskDefinition
        self.desiredCount = desiredCount
        self.runningCount = runningCount
        self.pendingCount = pendingCount
        self.failedTasks = failedTasks
        self.rolloutState = rolloutState
        self.rolloutStateReason = rolloutStateReason
    }
}

/// A `failures` entry of a describe call: the resource and why (`MISSING`).
public struct ECSFailure: Sendable, Equatable, Decodable {
    public var arn: String?
    public var reason: String?
    public var detail: String?
}

/// A task definition revision as `DescribeTaskDefinition` returns it (the members dr reads).
public struct ECSTaskDefinition: Sendable, Equatable, Decodable {
    public var taskDefinitionArn: String?
    public var family: String
    public var revision: Int
    /// `ACTIVE`, `INACTIVE` (deregistered) or `DELETE_IN_PROGRESS`.
    public var status: String?
    public var containerDefinitions: [Container]

    public struct Container: Sendable, Equatable, Decodable {
        public var name: String?
        public var image: String?
    }

    enum CodingKeys: String, CodingKey { case taskDefinitionArn, family, revision, status, containerDefinitions }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        taskDefinitionArn = try c.decodeIfPresent(String.self, forKey: .taskDefinitionArn)
        family = try c.decodeIfPresent(String.self, forKey: .family) ?? ""
        revision = try c.decodeIfPresent(Int.self, forKey: .revision) ?? 0
        status = try c.decodeIfPresent(String.self, forKey: .status)
        containerDefinitions = try c.decodeIfPresent([Container].self, forKey: .containerDefinitions) ?? []
    }

    public var name: TaskDefinitionRevision { TaskDefinitionRevision(family: family, revision: revision) }
    /// Every container's image, in the definition's order.
    public var images: [String] { containerDefinitions.compactMap(\.image) }
}
