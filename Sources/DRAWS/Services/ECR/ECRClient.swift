import Foundation

/// A container image reference that points into a private ECR registry:
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG][@sha256:DIGEST]`.
public struct ECRImageReference: Sendable, Equatable, CustomStringConvertible {
    public var registryId: String
    public var region: String
    public var repository: String
    public var tag: String?
    public var digest: String?

    /// Nil for a reference to any other registry (Docker Hub, `public.ecr.aws`, ...) or one that does not parse.
    public init?(_ image: String) {
        guard let slash = image.firstIndex(of: "/") else { return nil }
        let host = image[..<slash].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        // ACCOUNT . dkr . ecr[-fips] . REGION . amazonaws . com [. cn]
        guard host.count == 6 || (host.count == 7 && host[6] == "cn"), host[1] == "dkr", host[2] == "ecr" || host[2] == "ecr-fips",
              host[4] == "amazonaws", host[5] == "com", host[0].count == 12, host[0].allSatisfy(\.isNumber),
              !host[3].isEmpty, host[3].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else { return nil }
        var rest = String(image[image.index(after: slash)...])
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = String(rest[..<at])
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = String(rest[..<colon])
        }
        guard !rest.isEmpty, tag?.isEmpty != true, digest?.isEmpty != true else { return nil }
        registryId = host[0]
        region = host[3]
        repository = rest
        // A reference without a tag or digest means `latest`, as the container runtime reads it.
        self.tag = digest == nil ? (tag ?? "latest") : tag
        self.digest = digest
    }

    /// What `DescribeImages` is asked for: the digest when the reference pins one, else the tag.
    public var imageId: ECRImageId { digest.map { ECRImageId(imageDigest: $0) } ?? ECRImageId(imageTag: tag ?? "latest") }

    public var description: String {
        "\(repository)" + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }
}

/// An image in a repository, by tag or by digest.
public struct ECRImageId: Sendable, Equatable, Codable {
    public var imageDigest: String?
    public var imageTag: String?
    public init(imageDigest: String? = nil, imageTag: String? = nil) {
        self.imageDigest = imageDigest
        self.imageTag = imageTag
    }
}

/// An image as `DescribeImages` returns it (the members dr reads).
public struct ECRImageDetail: Sendable, Equatable, Decodable {
    public var registryId: String?
    public var repositoryName: String?
    public var imageDigest: String?
    public var imageTags: [String]?
    public var imagePushedAt: Date?
}

/// Amazon ECR (JSON 1.1, target prefix `AmazonEC2ContainerRegistry_V20150921`; endpoint
/// `api.ecr.REGION.amazonaws.com`): whether images are in a region's registry.
public struct ECRClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .ecr, config: config) }

    struct DescribeImagesInput: Encodable {
        var registryId: String?
        var repositoryName: String
        var imageIds: [ECRImageId]
    }

    struct DescribeImagesOutput: Decodable { var imageDetails: [ECRImageDetail]? }

    /// `DescribeImages` of the given images (1 to 100) of `repository` in the registry of
    /// `registryId` (nil: the caller's account). An image that is not there is an error
    /// (`ImageNotFoundException`), as is a repository that is not (`RepositoryNotFoundException`).
    public func describeImages(repository: String, registryId: String? = nil, imageIds: [ECRImageId]) async throws -> [ECRImageDetail] {
        let input = DescribeImagesInput(registryId: registryId, repositoryName: repository, imageIds: imageIds)
        return try await client.send(try AWSRequest.json("DescribeImages", input)).decode(DescribeImagesOutput.self).imageDetails ?? []
    }

    /// The image `reference` names, or nil when the registry has no such image or repository.
    public func image(_ reference: ECRImageReference) async throws -> ECRImageDetail? {
        do {
            return try await describeImages(repository: reference.repository, registryId: reference.registryId, imageIds: [reference.imageId]).first
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }
}
