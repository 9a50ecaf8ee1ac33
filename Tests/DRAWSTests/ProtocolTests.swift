@testable import DRAWS
import DRCore
import Foundation
import XCTest

final class ProtocolTests: XCTestCase {
    let endpoint = URL(string: "https://example.test")!

    func testQueryEncodingIsFormPostWithActionAndVersion() throws {
        var p = QueryParams()
        p.add("DBSnapshotIdentifier", "snap 1")
        p.addTags([AWSTag("dr:created-by", "dr")])
        p.add("Skip", nil as String?)
        let http = try AWSProtocol.query.encode(p.request("CreateDBSnapshot", extra: ["Extra": "x/y"]), service: .rds, endpoint: endpoint)
        XCTAssertEqual(http.method, "POST")
        XCTAssertEqual(http.url.absoluteString, "https://example.test/")
        XCTAssertEqual(String(decoding: http.body, as: UTF8.self),
                       "Action=CreateDBSnapshot&Version=2014-10-31&DBSnapshotIdentifier=snap+1&Tags.Tag.1.Key=dr%3Acreated-by&Tags.Tag.1.Value=dr&Extra=x%2Fy")
        XCTAssertEqual(http.header("content-type"), "application/x-www-form-urlencoded; charset=utf-8")
    }

    func testJSONEncodingUsesTargetHeader() throws {
        let http = try AWSProtocol.json(version: "1.1", targetPrefix: "secretsmanager")
            .encode(try AWSRequest.json("GetSecretValue", ["SecretId": "a"]), service: .secretsManager, endpoint: endpoint)
        XCTAssertEqual(http.header("X-Amz-Target"), "secretsmanager.GetSecretValue")
        XCTAssertEqual(http.header("Content-Type"), "application/x-amz-json-1.1")
        XCTAssertEqual(String(decoding: http.body, as: UTF8.self), #"{"SecretId":"a"}"#)
    }

    func testRestXMLEncodingPutsTheOperationInPathAndQuery() throws {
        let http = try AWSProtocol.restXML.encode(AWSRequest(operation: "ListResourceRecordSets",
                                                             input: .rest(method: "GET", path: "/2013-04-01/hostedzone/Z1/rrset",
                                                                          query: [("name", "a b.example.com."), ("type", "A")])),
                                                  service: .route53, endpoint: endpoint)
        XCTAssertEqual(http.url.absoluteString, "https://example.test/2013-04-01/hostedzone/Z1/rrset?name=a%20b.example.com.&type=A")
        XCTAssertTrue(http.body.isEmpty)
        XCTAssertThrowsError(try AWSProtocol.restXML.encode(AWSRequest(operation: "X", input: .query([])), service: .route53, endpoint: endpoint))
    }

    func testGlobalServiceSignsForItsPartitionsGlobalRegion() {
        XCTAssertEqual(AWSService.route53.signingRegion("eu-west-1"), "us-east-1")
        XCTAssertEqual(AWSService.route53.signingRegion("cn-north-1"), "cn-northwest-1")
        XCTAssertEqual(AWSService.rds.signingRegion("eu-west-1"), "eu-west-1")
    }

    func testErrorEnvelopes() {
        let query = HTTPResponse(status: 400, body: Data("<ErrorResponse xmlns=\"x\"><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance x not found.</Message></Error><RequestId>abc</RequestId></ErrorResponse>".utf8))
        XCTAssertEqual(AWSProtocol.query.decodeError(query), ErrorEnvelope(code: "DBInstanceNotFound", message: "DBInstance x not found.", requestId: "abc"))
        let ec2Style = HTTPResponse(status: 400, body: Data("<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error></Errors><RequestID>r</RequestID></Response>".utf8))
        XCTAssertEqual(AWSProtocol.query.decodeError(ec2Style).code, "AuthFailure")
        let rest = HTTPResponse(status: 404, headers: ["x-amzn-RequestId": "h"], body: Data("<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: Z9</Message></Error><RequestId>r53</RequestId></ErrorResponse>".utf8))
        XCTAssertEqual(AWSProtocol.restXML.decodeError(rest), ErrorEnvelope(code: "NoSuchHostedZone", message: "No hosted zone found with ID: Z9", requestId: "r53"))
        let batch = HTTPResponse(status: 400, body: Data("<InvalidChangeBatch><Messages><Message>one</Message><Message>two</Message></Messages></InvalidChangeBatch>".utf8))
        XCTAssertEqual(AWSProtocol.restXML.decodeError(batch).message, "one; two")
        let json = HTTPResponse(status: 400, headers: ["x-amzn-RequestId": "j1"], body: Data(#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}"#.utf8))
        XCTAssertEqual(AWSProtocol.json(version: "1.1", targetPrefix: "x").decodeError(json),
                       ErrorEnvelope(code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret.", requestId: "j1"))
        let header = HTTPResponse(status: 400, headers: ["X-Amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"], body: Data())
        XCTAssertEqual(AWSProtocol.json(version: "1.1", targetPrefix: "x").decodeError(header).code, "ThrottlingException")
        let garbage = HTTPResponse(status: 502, body: Data("<html>bad gateway</html>".utf8))
        XCTAssertEqual(AWSProtocol.query.decodeError(garbage).code, "HTTP502")
    }

    func testXMLTreeQueries() throws {
        let root = try XElement.parse(Data("""
            <a:Root xmlns:a="urn:x"><Items><Item><Name>one</Name><N>1</N></Item><Item><Name>two &amp; more</Name><On>true</On></Item></Items>
            <When>2026-11-20T12:00:00.123Z</When><![CDATA[ignored]]></a:Root>
            """.utf8))
        XCTAssertEqual(root.name, "Root")
        XCTAssertEqual(root.list("Items", "Item").map { $0.string("Name") }, ["one", "two & more"])
        XCTAssertEqual(root.list("Items", "Item")[0].int("N"), 1)
        XCTAssertEqual(root.list("Items", "Item")[1].bool("On"), true)
        XCTAssertEqual(root.date("When").map { RFC3339.format($0) }, "2026-11-20T12:00:00Z")
        XCTAssertThrowsError(try XElement.parse(Data("<a><b></a>".utf8)))
        XCTAssertEqual(XElement.escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;")
    }

    func testPaginatorFollowsTokensAndStopsOnRepeat() async throws {
        let pages: [String?: (items: [Int], next: String?)] = [nil: ([1, 2], "a"), "a": ([3], "b"), "b": ([4], "a")]
        let all = try await Paginator.collect { (token: String?) in Paginator.Page(items: pages[token]!.items, next: pages[token]!.next) }
        XCTAssertEqual(all, [1, 2, 3, 4])
    }
}

/// Requests the models accept, from the typed operations (issue 11 item 7).
final class RequestShapeTests: XCTestCase {
    func testInstanceRestoresSendNoKMSKeyAndClusterRestoresDo() async throws {
        let transport = ScriptedTransport([], fallback: HTTPResponse(status: 200, body: Data("<R/>".utf8)))
        let rds = RDSClient(config: Fixtures.config(transport, clock: ManualClock()))
        for restore in [{ try await rds.restoreDBInstanceFromDBSnapshot(snapshot: "s", target: "t", options: RDSRestoreOptions(kmsKeyId: "alias/k")) },
                        { try await rds.restoreDBInstanceToPointInTime(source: "s", target: "t", useLatestRestorableTime: true,
                                                                       options: RDSRestoreOptions(kmsKeyId: "alias/k")) }] as [() async throws -> DBInstance] {
            do {
                _ = try await restore()
                XCTFail("an instance restore cannot choose a key")
            } catch let error as DRError {
                XCTAssertEqual(error.category, .badInput)
                XCTAssertEqual(error.text.parameters, [.kmsKeyID])
            }
        }
        XCTAssertEqual(transport.sent.count, 0, "nothing was sent")
        _ = try await rds.restoreDBInstanceFromDBSnapshot(snapshot: "s", target: "t", options: RDSRestoreOptions(instanceClass: "db.t3.micro"))
        _ = try await rds.restoreDBClusterFromSnapshot(snapshot: "s", target: "c", engine: "aurora-postgresql", options: RDSRestoreOptions(kmsKeyId: "alias/k"))
        let bodies = transport.sent.map { String(decoding: $0.body, as: UTF8.self) }
        XCTAssertFalse(bodies[0].contains("KmsKeyId"), bodies[0])
        XCTAssertTrue(bodies[1].contains("KmsKeyId=alias%2Fk"), bodies[1])
    }

    func testARoute53CommentIsCutTo256Characters() async throws {
        let transport = ScriptedTransport([], fallback: HTTPResponse(status: 200, body: Data("<ChangeResourceRecordSetsResponse/>".utf8)))
        let r53 = Route53Client(config: Fixtures.config(transport, clock: ManualClock()))
        _ = try await r53.changeResourceRecordSets(zoneId: "Z1", changes: [RecordChange(.upsert, ResourceRecordSet(name: "a.example.com.", type: "A", ttl: 60, values: ["127.0.0.1"]))],
                                                   comment: String(repeating: "c", count: 300))
        let xml = String(decoding: try XCTUnwrap(transport.sent.first).body, as: UTF8.self)
        XCTAssertTrue(xml.contains("<Comment>" + String(repeating: "c", count: 253) + "...</Comment>"), xml)
        XCTAssertEqual(Route53Client.fittedComment("short"), "short")
    }
}
