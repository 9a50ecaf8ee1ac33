@testable import DRAWS
import DRCore
import Foundation
import XCTest

/// Secrets Manager calls moto lacks (`StopReplicationToReplica`), through the fake transport with
/// answers shaped like AWS's documented ones; the requests are recorded and checked against the
/// service model at the end of `make test` like every other.
final class SecretsManagerFakeTests: XCTestCase {
    func client(_ transport: ScriptedTransport) -> SecretsManagerClient {
        var config = Fixtures.config(transport, clock: ManualClock())
        config.region = "us-west-2"
        config.endpoint = URL(string: "https://secretsmanager.us-west-2.amazonaws.com")!
        return SecretsManagerClient(config: config)
    }

    static func json(_ text: String) -> ScriptedTransport.Step {
        .respond(HTTPResponse(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r1"], body: Data(text.utf8)))
    }

    func testStopReplicationToReplicaThenPutSecretValue() async throws {
        let arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:production/db-AbCdEf"
        let transport = ScriptedTransport([
            Self.json(#"{"ARN":"\#(arn)"}"#),
            Self.json(#"{"ARN":"\#(arn)","Name":"production/db","VersionId":"EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE","VersionStages":["AWSCURRENT"]}"#),
        ])
        let secrets = client(transport)
        let promoted = try await secrets.stopReplicationToReplica("production/db")
        XCTAssertEqual(promoted, arn)
        let value = #"{"host":"new.example","port":5432,"username":"app","password":"fake-pw-0001"}"#
        let version = try await secrets.putSecretValue("production/db", secretString: value, token: String(repeating: "a", count: 36))
        XCTAssertEqual(version.versionId, "EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE")

        let sent = transport.sent
        XCTAssertEqual(sent.map { $0.header("X-Amz-Target") }, ["secretsmanager.StopReplicationToReplica", "secretsmanager.PutSecretValue"])
        XCTAssertEqual(try JSONSerialization.jsonObject(with: sent[0].body) as? [String: String], ["SecretId": "production/db"])
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: sent[1].body) as? [String: String])
        XCTAssertEqual(body["SecretId"], "production/db")
        XCTAssertEqual(body["SecretString"], value)
        XCTAssertEqual(body["ClientRequestToken"]?.count, 36)
        XCTAssertTrue(sent.allSatisfy { $0.header("Authorization")?.contains("/us-west-2/secretsmanager/aws4_request") == true })
        XCTAssertFalse(Redact.secrets(in: "password fake-pw-0001").contains("fake-pw-0001"), "the value is registered with Redact before it is sent")
    }
}
