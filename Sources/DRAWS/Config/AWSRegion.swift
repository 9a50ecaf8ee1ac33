import Foundation

/// Region names and the partition each belongs to.
public enum AWSRegion {
    /// `us-east-1`, `eu-central-2`, `ap-southeast-4`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`.
    public static func isValid(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard (3...4).contains(parts.count) else { return false }
        let isLowerWord = { (s: Substring) in !s.isEmpty && s.allSatisfy { ("a"..."z").contains($0) } }
        guard parts[0].count == 2, isLowerWord(parts[0]) else { return false }
        if parts.count == 4, !["gov", "iso", "isob", "isoe", "isof"].contains(String(parts[1])) { return false }
        guard isLowerWord(parts[parts.count - 2]) else { return false }
        let number = parts[parts.count - 1]
        return (1...2).contains(number.count) && number.allSatisfy(\.isASCII) && number.allSatisfy(\.isNumber)
    }

    /// The partition of a region: its DNS suffix and where its global services sign.
    public struct Partition: Sendable, Equatable {
        public var id: String
        public var dnsSuffix: String
        /// The region global endpoints (Route 53, legacy STS) sign for.
        public var globalSigningRegion: String
    }

    public static func partition(of region: String) -> Partition {
        if region.hasPrefix("cn-") { return Partition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn", globalSigningRegion: "cn-northwest-1") }
        if region.hasPrefix("us-gov-") { return Partition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", globalSigningRegion: "us-gov-west-1") }
        if region.hasPrefix("us-isob-") { return Partition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", globalSigningRegion: "us-isob-east-1") }
        if region.hasPrefix("us-iso-") { return Partition(id: "aws-iso", dnsSuffix: "c2s.ic.gov", globalSigningRegion: "us-iso-east-1") }
        return Partition(id: "aws", dnsSuffix: "amazonaws.com", globalSigningRegion: "us-east-1")
    }
}
