/// A provider over fixed credentials: keys given on the command line or in tests, the source
/// credentials of an AssumeRole call, or credentials another provider already resolved.
public struct StaticCredentialProvider: AWSCredentialProvider {
    public let name: String
    let value: AWSCredentials

    public init(_ credentials: AWSCredentials, name: String = "static") {
        self.value = credentials
        self.name = name
    }

    public func credentials() async throws -> AWSCredentials { value }
}
