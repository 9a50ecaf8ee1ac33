/// The wire protocol of a service. Chosen once per service; `AWSProtocol+Coding.swift` switches
/// on it once to encode a request and once to decode a response.
public enum AWSProtocol: Sendable, Equatable {
    /// AWS Query: form-encoded POST with `Action` and `Version`, XML responses (RDS, ElastiCache, STS).
    case query
    /// REST-XML: the operation is in the method and path, XML bodies (Route 53).
    case restXML
    /// JSON: POST of a JSON document, operation in `X-Amz-Target` (Secrets Manager, KMS, ECS, ECR).
    case json(version: String, targetPrefix: String)
    /// EC2: encoded as AWS Query (lists as `Name.N`, no `.member`), answered without the
    /// `<OperationResult>` wrapper, errors in `<Response><Errors><Error>`.
    case ec2
}

/// What the client needs to know about a service to address, sign and encode its calls.
public struct AWSService: Sendable, Equatable {
    /// The SDK service id, as `AWS_ENDPOINT_URL_<SERVICE>` spells it (upper-cased, spaces to `_`).
    public var serviceID: String
    public var endpointPrefix: String
    public var signingName: String
    public var wireProtocol: AWSProtocol
    public var apiVersion: String
    /// Global services have one endpoint per partition and sign for the partition's global
    /// region (us-east-1, cn-northwest-1, us-gov-west-1, ...) whatever the client's region.
    public var global: Bool

    public init(serviceID: String, endpointPrefix: String, signingName: String, wireProtocol: AWSProtocol,
                apiVersion: String, global: Bool = false) {
        self.serviceID = serviceID
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName
        self.wireProtocol = wireProtocol
        self.apiVersion = apiVersion
        self.global = global
    }

    /// The region a request to this service from a client in `region` is signed for.
    public func signingRegion(_ region: String) -> String { global ? AWSRegion.partition(of: region).globalSigningRegion : region }

    public static let rds = AWSService(serviceID: "RDS", endpointPrefix: "rds", signingName: "rds",
                                       wireProtocol: .query, apiVersion: "2014-10-31")
    public static let elastiCache = AWSService(serviceID: "ElastiCache", endpointPrefix: "elasticache", signingName: "elasticache",
                                               wireProtocol: .query, apiVersion: "2015-02-02")
    public static let sts = AWSService(serviceID: "STS", endpointPrefix: "sts", signingName: "sts",
                                       wireProtocol: .query, apiVersion: "2011-06-15")
    public static let route53 = AWSService(serviceID: "Route 53", endpointPrefix: "route53", signingName: "route53",
                                           wireProtocol: .restXML, apiVersion: "2013-04-01", global: true)
    public static let secretsManager = AWSService(serviceID: "Secrets Manager", endpointPrefix: "secretsmanager", signingName: "secretsmanager",
                                                  wireProtocol: .json(version: "1.1", targetPrefix: "secretsmanager"), apiVersion: "2017-10-17")
    public static let kms = AWSService(serviceID: "KMS", endpointPrefix: "kms", signingName: "kms",
                                       wireProtocol: .json(version: "1.1", targetPrefix: "TrentService"), apiVersion: "2014-11-01")

    public static let ec2 = AWSService(serviceID: "EC2", endpointPrefix: "ec2", signingName: "ec2",
                                       wireProtocol: .ec2, apiVersion: "2016-11-15")

    public static let ecs = AWSService(serviceID: "ECS", endpointPrefix: "ecs", signingName: "ecs",
                                       wireProtocol: .json(version: "1.1", targetPrefix: "AmazonEC2ContainerServiceV20141113"), apiVersion: "2014-11-13")
    public static let ecr = AWSService(serviceID: "ECR", endpointPrefix: "api.ecr", signingName: "ecr",
                                       wireProtocol: .json(version: "1.1", targetPrefix: "AmazonEC2ContainerRegistry_V20150921"), apiVersion: "2015-09-21")

    public static let all: [AWSService] = [.rds, .elastiCache, .route53, .secretsManager, .sts, .kms, .ec2, .ecs, .ecr]
}
