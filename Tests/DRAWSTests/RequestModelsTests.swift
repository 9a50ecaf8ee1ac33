@testable import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The models-conformance check (issue 11 item 7): every AWS request the suites make is recorded
/// (`DR_AWS_REQUEST_LOG`, set by scripts/with-test-servers.sh) and checked against the botocore
/// service models by scripts/check-aws-requests.py at the end of the run. These tests prove the
/// two halves work: the recorder sees requests whatever transport answers them, and the checker
/// catches what real AWS would refuse.
final class RequestModelsTests: XCTestCase {
    static var checker: String { Botocore.scriptsDirectory + "/check-aws-requests.py" }

    func testTheRecorderCapturesRequestsAFakeTransportAnswers() async throws {
        let path = try XCTUnwrap(ProcessInfo.processInfo.environment[AWSRequestRecorder.variable],
                                 "scripts/with-test-servers.sh records every AWS request of the run")
        XCTAssertNotNil(AWSRequestRecorder.shared)
        let marker = "rec-" + UUID().uuidString.prefix(8).lowercased()
        let rds = RDSClient(config: Fixtures.config(ScriptedTransport([Fixtures.describeOK()]), clock: ManualClock()))
        _ = try await rds.describeDBInstances(identifier: marker)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let line = try XCTUnwrap(lines.first { $0.contains(marker) }, "the request is in \(path)")
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(record["kind"] as? String, "aws")
        XCTAssertEqual(record["service"] as? String, "RDS")
        XCTAssertEqual(record["operation"] as? String, "DescribeDBInstances")
        XCTAssertEqual(record["wire_protocol"] as? String, "query")
        XCTAssertEqual(record["sent_over_network"] as? Bool, false)
        XCTAssertEqual(record["body"] as? String, "Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier=\(marker)")
        XCTAssertFalse(line.contains(Fixtures.credentials.secretAccessKey) || line.contains(Fixtures.credentials.sessionToken!))
    }

    /// Runs the checker on `records` (one JSON object per line); returns its exit status and output.
    func check(_ records: [[String: Any]]) throws -> (status: Int32, output: String) {
        let file = NSTemporaryDirectory() + "dr-check-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let text = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try (text.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let result = try SystemProcessRunner.runBlocking("python3", [Self.checker, "--quiet", file])
        return (result.status, result.stdout + result.stderr)
    }

    static func query(_ service: String, _ version: String, _ operation: String, _ body: String) -> [String: Any] {
        ["kind": "aws", "service": service, "api_version": version, "wire_protocol": "query", "operation": operation, "method": "POST",
         "url": "https://x.amazonaws.com/", "content_type": "application/x-www-form-urlencoded; charset=utf-8",
         "body": "Action=\(operation)&Version=\(version)" + (body.isEmpty ? "" : "&" + body), "sent_over_network": false, "pid": 1]
    }

    static func route53(_ method: String, _ url: String, _ operation: String, body: String = "") -> [String: Any] {
        ["kind": "aws", "service": "Route 53", "api_version": "2013-04-01", "wire_protocol": "rest-xml", "operation": operation,
         "method": method, "url": url, "body": body, "sent_over_network": false, "pid": 1]
    }

    static func json(_ service: String, _ version: String, _ target: String, _ operation: String, _ body: String) -> [String: Any] {
        ["kind": "aws", "service": service, "api_version": version, "wire_protocol": "json-1.1", "operation": operation, "method": "POST",
         "url": "https://x.amazonaws.com/", "content_type": "application/x-amz-json-1.1", "target": "\(target).\(operation)",
         "body": body, "sent_over_network": false, "pid": 1]
    }

    func testTheCheckerPassesRequestsTheModelsAccept() throws {
        let batch = #"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>dr failover</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>db.example.com.</Name><Type>CNAME</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>x.example.com</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#
        let good: [[String: Any]] = [
            Self.query("RDS", "2014-10-31", "RestoreDBInstanceFromDBSnapshot",
                       "DBSnapshotIdentifier=s1&DBInstanceIdentifier=r1&MultiAZ=false&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&Tags.Tag.1.Key=dr%3Amanaged&Tags.Tag.1.Value=true"),
            Self.query("RDS", "2014-10-31", "DescribeDBSnapshots", "Filters.Filter.1.Name=db-instance-id&Filters.Filter.1.Values.Value.1=a&MaxRecords=100"),
            Self.query("STS", "2011-06-15", "AssumeRole", "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fops&RoleSessionName=dr-session-1&DurationSeconds=3600"),
            Self.route53("POST", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset/", "ChangeResourceRecordSets", body: batch),
            Self.route53("GET", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset?name=db.example.com.&type=CNAME&maxitems=10",
                         "ListResourceRecordSets"),
            Self.json("Secrets Manager", "2017-10-17", "secretsmanager", "GetSecretValue", #"{"SecretId":"prod/db"}"#),
            ["kind": "http", "method": "GET", "url": "http://127.0.0.1:5000/", "pid": 1],
        ]
        let result = try check(good)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("6 AWS requests (6 operations) and 1 HTTP requests checked against the botocore models: 0 violation(s)"), result.output)
    }

    func testTheCheckerCatchesWhatRealAWSWouldRefuse() throws {
        let longComment = String(repeating: "c", count: 300)
        let batch = #"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>\#(longComment)</Comment><Changes><Change><Action>RENAME</Action><ResourceRecordSet><Name>db.example.com.</Name><Type>CNAME</Type><TTL>60</TTL></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#
        let bad: [[String: Any]] = [
            // No such member (instance restores keep the snapshot's key), and a list serialized the wrong way.
            Self.query("RDS", "2014-10-31", "RestoreDBInstanceFromDBSnapshot", "DBSnapshotIdentifier=s1&DBInstanceIdentifier=r1&KmsKeyId=k&Tags.member.1.Key=a"),
            // A required member missing, a boolean and an integer that are not.
            Self.query("RDS", "2014-10-31", "CopyDBSnapshot", "SourceDBSnapshotIdentifier=s1&CopyTags=yes"),
            Self.query("RDS", "2014-10-31", "DescribeDBInstances", "MaxRecords=many"),
            // Outside the range and the pattern.
            Self.query("STS", "2011-06-15", "AssumeRole", "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fops&RoleSessionName=on%20call&DurationSeconds=86400"),
            // An operation that does not exist.
            Self.query("RDS", "2014-10-31", "DescribeDBInstance", ""),
            // Route 53: over 256 characters, an unknown enum value, an unknown query parameter, a wrong path.
            Self.route53("POST", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset/", "ChangeResourceRecordSets", body: batch),
            Self.route53("GET", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1/rrset?type=CNAMES&page=2", "ListResourceRecordSets"),
            Self.route53("GET", "https://route53.amazonaws.com/2013-04-01/zone/Z1", "GetChange"),
            // JSON: a wrong type and an unknown member.
            Self.json("Secrets Manager", "2017-10-17", "secretsmanager", "GetSecretValue", #"{"SecretId":5,"Stage":"AWSCURRENT"}"#),
            // A request that would leave the machine.
            ["kind": "http", "method": "PUT", "url": "http://169.254.169.254/latest/api/token", "pid": 1],
        ]
        let result = try check(bad)
        XCTAssertEqual(result.status, 1, result.output)
        for expected in [
            "RDS RestoreDBInstanceFromDBSnapshot: KmsKeyId: not a member of RestoreDBInstanceFromDBSnapshotMessage",
            "RDS RestoreDBInstanceFromDBSnapshot: Tags.member.1.Key: a list (TagList) is serialized as Tags.Tag.N",
            "RDS CopyDBSnapshot: CopyDBSnapshotMessage: required member TargetDBSnapshotIdentifier is missing",
            "RDS CopyDBSnapshot: CopyTags: 'yes' is not true or false",
            "RDS DescribeDBInstances: MaxRecords: 'many' is not a whole number (integer)",
            "STS AssumeRole: RoleSessionName: 'on call' does not match roleSessionNameType's pattern",
            "STS AssumeRole: DurationSeconds: 86400 is above the maximum 43200",
            "RDS DescribeDBInstance: RDS has no operation DescribeDBInstance",
            "Route 53 ChangeResourceRecordSets: ChangeBatch.Comment: 300 characters, more than the maximum 256",
            "Route 53 ChangeResourceRecordSets: ChangeBatch.Changes[0].Action: 'RENAME' is not one of ChangeAction's values",
            "Route 53 ListResourceRecordSets: ?type: 'CNAMES' is not one of RRType's values",
            "Route 53 ListResourceRecordSets: ?page: not a query-string member of ListResourceRecordSetsRequest",
            "Route 53 GetChange: the path /2013-04-01/zone/Z1 does not match /2013-04-01/change/{Id}",
            "Secrets Manager GetSecretValue: SecretId: expected a string, got 5",
            "Secrets Manager GetSecretValue: Stage: not a member of GetSecretValueRequest",
            "HTTP PUT to 169.254.169.254: tests must not leave the machine",
        ] {
            XCTAssertTrue(result.output.contains(expected), "missing: \(expected)\n\(result.output)")
        }
        XCTAssertTrue(result.output.contains("9 AWS requests (9 operations) and 1 HTTP requests checked"), result.output)
    }

    func testAPresignedURLIsCheckedAsARequestOfItsOperation() throws {
        let inner = "https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&Version=2014-10-31&SourceDBSnapshotIdentifier=a&KmsKeyId=k"
            + "&DestinationRegion=us-west-2&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"
        let body = "SourceDBSnapshotIdentifier=a&TargetDBSnapshotIdentifier=b&PreSignedUrl="
            + inner.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let result = try check([Self.query("RDS", "2014-10-31", "CopyDBSnapshot", body)])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("RDS CopyDBSnapshot: PreSignedUrl: CopyDBSnapshotMessage: required member TargetDBSnapshotIdentifier is missing"),
                      result.output)
    }
}
