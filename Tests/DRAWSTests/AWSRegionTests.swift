@testable import DRAWS
import DRCore
import DRTestSupport
import XCTest

/// The one region check, against botocore's partitions (the reference the request checker uses too).
final class AWSRegionTests: XCTestCase {
    func testPartitionsAndRegionsAgreeWithBotocore() throws {
        let partitions = try XCTUnwrap(try Botocore.json("partitions.json")["partitions"] as? [[String: Any]])
        let endpoints = try XCTUnwrap(try Botocore.json("endpoints.json")["partitions"] as? [[String: Any]])
        for ours in AWSRegion.partitions {
            let theirs = try XCTUnwrap(partitions.first { $0["id"] as? String == ours.id }, "botocore has no partition \(ours.id)")
            let outputs = try XCTUnwrap(theirs["outputs"] as? [String: Any])
            XCTAssertEqual(outputs["dnsSuffix"] as? String, ours.dnsSuffix, ours.id)
            XCTAssertEqual(outputs["implicitGlobalRegion"] as? String, ours.globalSigningRegion, ours.id)
            let regions = Set(((theirs["regions"] as? [String: Any]) ?? [:]).keys)
                .union(((endpoints.first { $0["partition"] as? String == ours.id }?["regions"] as? [String: Any]) ?? [:]).keys)
            // Every region dr accepts is one botocore knows (a newer botocore may know more).
            XCTAssertEqual(Set(ours.regions).subtracting(regions), [], ours.id)
            // And it is in the partition whose pattern botocore gives.
            let pattern = try NSRegularExpression(pattern: try XCTUnwrap(theirs["regionRegex"] as? String))
            for region in ours.regions {
                XCTAssertNotNil(pattern.firstMatch(in: region, range: NSRange(region.startIndex..., in: region)), region)
            }
        }
    }

    func testTheCheckNamesTheSourceAndSimilarRegions() {
        XCTAssertNoThrow(try AWSRegion.check("eu-central-2", source: "AWS_REGION"))
        XCTAssertThrowsError(try AWSRegion.check("eu-west-7", source: "region of target prod-db")) { error in
            XCTAssertEqual("\(error)", "\"eu-west-7\" (region of target prod-db) is not an AWS region dr knows. Use a region name such as us-east-1, eu-central-2, us-gov-west-1 or cn-north-1 (similar: eu-west-1, eu-west-2, eu-west-3). Nothing was changed.")
            XCTAssertEqual((error as? AWSConfigError)?.drError.category, .badInput)
        }
        XCTAssertThrowsError(try AWSRegion.check("us-moon-1", source: "\(param: .region)")) { error in
            XCTAssertEqual((error as? AWSConfigError)?.text.parameters, [.region])
        }
        XCTAssertEqual(AWSRegion.partition(of: "cn-north-1").globalSigningRegion, "cn-northwest-1")
        XCTAssertEqual(AWSRegion.partition(of: "us-isof-east-1").globalSigningRegion, "us-isof-south-1")
        XCTAssertEqual(AWSRegion.partition(of: "eusc-de-east-1").dnsSuffix, "amazonaws.eu")
    }
}
