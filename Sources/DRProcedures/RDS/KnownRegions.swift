import DRCore
import Foundation

/// The AWS regions `dr` accepts. A name that is well formed but not a region (`us-east-9`)
/// would only fail at the first API call, after DNS errors and retries; checking up front
/// turns a typo into bad input (exit 2) before anything is called.
public enum KnownRegions {
    public static let all: Set<String> = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1",
        "me-central-1", "mx-central-1", "sa-east-1", "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
    ]

    /// A region a caller gave (`--region`, a step's `region`).
    public static func check(_ region: String, parameter: Parameter) throws {
        guard all.contains(region) else {
            throw DRError(.invalidParameter, "\"\(region)\" (\(param: parameter)) is not an AWS region dr knows. Use a region name such as us-east-1 or us-west-2\(similar(region)). Nothing was changed.")
        }
    }

    static func similar(_ region: String) -> String {
        let near = all.filter { $0.hasPrefix(String(region.prefix(3))) }.sorted().prefix(6).joined(separator: ", ")
        return near.isEmpty ? "" : " (similar: \(near))"
    }

    public static func check(_ region: String, what: String) throws {
        guard all.contains(region) else {
            let near = all.filter { $0.hasPrefix(String(region.prefix(3))) }.sorted().prefix(6).joined(separator: ", ")
            throw DRError.badInput("\"\(region)\" (\(what)) is not an AWS region dr knows. Use a region name such as us-east-1 or us-west-2\(near.isEmpty ? "" : " (similar: \(near))"). Nothing was changed.")
        }
    }
}
