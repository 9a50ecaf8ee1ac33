import DRAWS

extension RDSClient {
    /// A resource's tags: those its description carried, else ListTagsForResource.
    func tags(described: [AWSTag], arn: String?) async throws -> [AWSTag] {
        guard described.isEmpty, let arn else { return described }
        return try await listTagsForResource(arn: arn)
    }
}
