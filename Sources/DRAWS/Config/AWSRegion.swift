import DRCore
import Foundation

/// The AWS partitions and their regions: the one region check every command uses (`--region`,
/// `AWS_REGION`, a profile's `region`, a target's `region:` and `dr_region:`), and the DNS
/// suffix and global signing region endpoints are built from.
///
/// The table is botocore's `partitions.json` / `endpoints.json` (the models the tests check
/// requests against; `AWSRegionTests` compares the two). A name that is well formed but not a
/// region (`us-east-9`) would only fail at the first API call, after DNS errors and retries;
/// checking up front turns a typo into bad input (exit 2) before anything is sent.
public enum AWSRegion {
    /// A partition: its DNS suffix, the region its global endpoints (Route 53, legacy STS) sign
    /// for, and its regions.
    public struct Partition: Sendable, Equatable {
        public var id: String
        public var dnsSuffix: String
        /// botocore's `implicitGlobalRegion`.
        public var globalSigningRegion: String
        public var regions: [String]
    }

    public static let partitions: [Partition] = [
        Partition(id: "aws", dnsSuffix: "amazonaws.com", globalSigningRegion: "us-east-1", regions: [
            "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
            "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
            "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
            "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
            "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        ]),
        Partition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn", globalSigningRegion: "cn-northwest-1", regions: ["cn-north-1", "cn-northwest-1"]),
        Partition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", globalSigningRegion: "us-gov-west-1", regions: ["us-gov-east-1", "us-gov-west-1"]),
        Partition(id: "aws-iso", dnsSuffix: "c2s.ic.gov", globalSigningRegion: "us-iso-east-1", regions: ["us-iso-east-1", "us-iso-west-1"]),
        Partition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", globalSigningRegion: "us-isob-east-1", regions: ["us-isob-east-1", "us-isob-west-1"]),
        Partition(id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", globalSigningRegion: "eu-isoe-west-1", regions: ["eu-isoe-west-1"]),
        Partition(id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov", globalSigningRegion: "us-isof-south-1", regions: ["us-isof-east-1", "us-isof-south-1"]),
        Partition(id: "aws-eusc", dnsSuffix: "amazonaws.eu", globalSigningRegion: "eusc-de-east-1", regions: ["eusc-de-east-1"]),
    ]

    /// Every region dr accepts.
    public static let all: Set<String> = Set(partitions.flatMap(\.regions))

    public static func isValid(_ name: String) -> Bool { all.contains(name) }

    /// The one region check: `region` must be a region dr knows. `source` says where the name
    /// came from, for the message (`AWS_REGION`, `region of target prod-db`, `\(param: .region)`).
    public static func check(_ region: String, source: ErrorText) throws {
        guard !isValid(region) else { return }
        throw AWSConfigError.invalidRegion(region, source: source)
    }

    /// Up to six known regions that start like `name` (`us-east-9` → `us-east-1, us-east-2`).
    static func similar(to name: String) -> [String] {
        let parts = name.split(separator: "-")
        for length in stride(from: min(2, parts.count), through: 1, by: -1) {
            let prefix = parts.prefix(length).joined(separator: "-") + "-"
            let near = all.filter { $0.hasPrefix(prefix) }.sorted()
            if !near.isEmpty { return Array(near.prefix(6)) }
        }
        return []
    }

    /// The partition a known region belongs to (the commercial one for anything else, which the
    /// region check has refused before any endpoint is built).
    public static func partition(of region: String) -> Partition {
        partitions.first { $0.regions.contains(region) } ?? partitions[0]
    }
}
