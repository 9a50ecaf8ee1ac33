import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The AWS layer where the user sees it: the built `dr` against moto, with the fault proxy
/// in front of it (issue 11 items 6, 7, 8, 11; issue 12's one session per process).
final class CommandLineTests: XCTestCase {
    static var repository: String { TestDatabase.repositoryRoot.path }
    static var weeklyRunbook: String { repository + "/runbooks/weekly-snapshot.yml" }

    // MARK: --timeout bounds a command (item 6)

    func testTimeoutBoundsTheWholeCommandWhenEveryAnswerIsSlow() async throws {
        let platform = try await MotoPlatform.make()
        // Every answer takes 4 s; the command has 6 s: the second call gets 2 s and the command stops.
        let slow = try FaultProxy(upstream: platform.moto, ratio: 1, kinds: ["delay"], delay: 4)
        defer { slow.stop() }
        let (result, seconds) = try platform.dr(["snapshot", platform.target, "--timeout", "6"], endpoint: slow.url)
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertGreaterThan(seconds, 5.5)
        XCTAssertLessThan(seconds, 9, "bounded by the 6 s given: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("Stopped after 6.0s"), result.stderr)
        // It names the call it was waiting on (the snapshot's decision reads the source's identity, then the snapshots and their tags).
        XCTAssertTrue(result.stderr.range(of: #"while waiting for an answer from RDS (DescribeDBInstances|DescribeDBSnapshots|ListTagsForResource) \(attempt 1: timedOut"#, options: .regularExpression) != nil, result.stderr)

        // An answer slower than the whole budget: the first call is cut at the budget.
        let slower = try FaultProxy(upstream: platform.moto, ratio: 1, kinds: ["delay"], delay: 10)
        defer { slower.stop() }
        let (cut, cutSeconds) = try platform.dr(["snapshot", platform.target, "--timeout", "3"], endpoint: slower.url)
        XCTAssertEqual(cut.status, 4, cut.stderr)
        XCTAssertLessThan(cutSeconds, 6, cut.stderr)
        XCTAssertTrue(cut.stderr.contains("waiting for an answer from RDS DescribeDBInstances (attempt 1: timedOut"), cut.stderr)
    }

    func testEachRetryPrintsOneLineAndTheCommandGoesOn() async throws {
        let platform = try await MotoPlatform.make()
        let proxy = try FaultProxy(upstream: platform.moto, schedule: ["503", "throttle"])
        defer { proxy.stop() }
        let (result, _) = try platform.dr(["snapshot", platform.target, "--timeout", "120"], endpoint: proxy.url)
        XCTAssertEqual(result.status, 0, result.stderr)
        let retries = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dr: retrying AWS request") }
        XCTAssertEqual(retries.count, 2, result.stderr)
        XCTAssertTrue(retries[0].contains("attempt=1/3 error=HTTP 503 ServiceUnavailable: Service is unavailable."), "\(retries[0])")
        XCTAssertTrue(retries[0].contains("operation=RDS DescribeDBInstances retry_in="), "the first call reads the source's identity: \(retries[0])")
        XCTAssertTrue(retries[1].contains("attempt=2/3 error=HTTP 400 Throttling: Rate exceeded"), "\(retries[1])")
    }

    // MARK: Secrets masked in every encoding (item 8)

    /// Every form of `secret` a user could find, made with Foundation's encoders.
    static func forms(of secret: String) -> [String: String] {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        let once = secret.addingPercentEncoding(withAllowedCharacters: unreserved)!
        let twice = once.addingPercentEncoding(withAllowedCharacters: unreserved)!
        let json = String(decoding: (try? JSONEncoder().encode([secret])) ?? Data(), as: UTF8.self).dropFirst(2).dropLast(2)
        // base64 of a text that holds the token URL-encoded twice: the middle of it, away from the edges' alignment.
        let inBody = Data(("PreSignedUrl=...%26X-Amz-Security-Token%3D" + twice + "%26X").utf8).base64EncodedString()
        return ["raw": secret, "URL-encoded": once, "URL-encoded twice": twice, "JSON-escaped": String(json),
                "base64": Data(secret.utf8).base64EncodedString(), "base64 of the URL-encoded": String(inBody.dropFirst(60).prefix(40))]
    }

    static func assertNoForm(of secret: String, in text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for (name, form) in forms(of: secret) where text.contains(form) {
            XCTFail("the \(name) token is in \(what): \(text)", file: file, line: line)
        }
    }

    func testTheSessionTokenIsMaskedInEveryEncodingOnStderrStdoutAndTheJournal() async throws {
        let platform = try await MotoPlatform.make(noAuth: true)
        let token = "FQoGZXIvYXdzE/\(platform.id)+sess/ion=Tok+en=="
        XCTAssertEqual(Set(Self.forms(of: token).values).count, 6, "six different forms to look for")
        let echo = try FaultProxy(upstream: platform.moto, echoActions: ["CopyDBSnapshot"])
        defer { echo.stop() }
        let env = ["AWS_SESSION_TOKEN": token]
        let (snapshot, _) = try platform.dr(["snapshot", platform.target, "--weekly"], endpoint: echo.url, env)
        XCTAssertEqual(snapshot.status, 0, snapshot.stderr)

        // The encrypted copy carries a presigned URL with the token; the proxy echoes the whole request back.
        let (copy, _) = try platform.dr(["copy", platform.target, "--output", "json"], endpoint: echo.url, env)
        XCTAssertEqual(copy.status, 3, copy.stderr)
        XCTAssertTrue(copy.stderr.contains("echo: body=") && copy.stderr.contains("PreSignedUrl="), "the echo reached dr: \(copy.stderr)")
        XCTAssertTrue(copy.stderr.contains("X-Amz-Security-Token%3D\(Redact.mask)"), copy.stderr)
        XCTAssertTrue(copy.stderr.contains("token=\(Redact.mask)"), copy.stderr)
        Self.assertNoForm(of: token, in: copy.stderr, "stderr")
        Self.assertNoForm(of: token, in: copy.stdout, "stdout")

        // A runbook whose copy step meets the same echo: its JSON report and its journal.
        let (run, _) = try platform.dr(["run", Self.weeklyRunbook, "--input", "target=\(platform.target)", "--output", "json"], endpoint: echo.url, env)
        XCTAssertEqual(run.status, 3, run.stderr + run.stdout)
        XCTAssertTrue(run.stdout.contains("echo: body="), "the step's error is in the report: \(run.stdout)")
        Self.assertNoForm(of: token, in: run.stdout, "the run's --output json")
        Self.assertNoForm(of: token, in: run.stderr, "the run's stderr")
        let journals = platform.stateFiles()
        XCTAssertTrue(journals.contains("echo: body="), "the journal has the step's error: \(journals)")
        Self.assertNoForm(of: token, in: journals, "the journal")
    }

    // MARK: One AWS session per process (issue 12)

    func testARunOfSeveralAWSStepsFetchesCredentialsOnce() async throws {
        let platform = try await MotoPlatform.make(noAuth: true)
        let server = try MetadataServer()
        defer { server.stop() }
        // Container credentials only: no keys in the environment.
        let env = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/v2/credentials/test-task"]
        let (run, _) = try platform.dr(["run", Self.weeklyRunbook, "--input", "target=\(platform.target)", "--output", "json"], env)
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        let steps = try XCTUnwrap(report["steps"] as? [[String: Any]], run.stdout)
        XCTAssertEqual(steps.compactMap { $0["id"] as? String }, ["snapshot", "cache", "copy", "status"])
        let stats = try await server.stats()
        XCTAssertEqual(stats["GET /v2/credentials/test-task"], 1, "one credential chain for the whole run: \(stats)")
    }

    // MARK: A step's retries do not repeat a refusal (item 11)

    func testARunbookStepDoesNotRetryARefusal() async throws {
        let platform = try await MotoPlatform.make()
        // The first call is refused (AccessDenied); everything after it would pass.
        let proxy = try FaultProxy(upstream: platform.moto, schedule: ["denied"])
        defer { proxy.stop() }
        let (run, seconds) = try platform.dr(["run", Self.weeklyRunbook, "--input", "target=\(platform.target)"], endpoint: proxy.url)
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertTrue(run.stderr.contains("AccessDenied"), run.stderr)
        XCTAssertFalse(run.stderr.contains("retrying in"), "the snapshot step has `retries: 2` but a refusal is not retried: \(run.stderr)")
        XCTAssertLessThan(seconds, 10)
        XCTAssertTrue(platform.stateFiles().contains("\"retryable\":false"), platform.stateFiles())
    }

    // MARK: Requests real AWS accepts (item 7)

    func testDerivedNamesFitTheirIdentifiersForALongTargetName() async throws {
        // The longest target name dr.yml accepts (40 characters), on a cluster (whose names have the least room).
        let longTarget = "analytics-production-primary-" + UUID().uuidString.prefix(8).lowercased() + "-db"
        XCTAssertEqual(longTarget.count, 40)
        let platform = try await MotoPlatform.make(target: longTarget, cluster: true)
        let (weekly, _) = try platform.dr(["snapshot", longTarget, "--weekly", "--output", "json"])
        XCTAssertEqual(weekly.status, 0, weekly.stderr)
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(weekly.stdout.utf8)) as? [String: Any])?["id"] as? String)
        XCTAssertLessThanOrEqual(id.count, 63, id)
        XCTAssertNotNil(id.range(of: "^dr-\(longTarget)-weekly-\\d{4}-w\\d{2}$", options: .regularExpression), id)
        let (again, _) = try platform.dr(["snapshot", longTarget, "--weekly", "--output", "json"])
        XCTAssertTrue(again.stdout.contains("\"created\" : false") && again.stdout.contains(id), "a re-run finds the same name: \(again.stdout)")

        let (copy, _) = try platform.dr(["copy", longTarget, "--output", "json"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertTrue(copy.stdout.contains("\"copy\" : \"\(id)\""), copy.stdout)

        // A cluster restored under a 63-character name gets a writer whose name fits too.
        let name = "restored-" + String(repeating: "x", count: 54)
        let (restore, _) = try platform.dr(["restore", longTarget, "--latest-restorable", "--as", name, "--timeout", "60", "--output", "json"])
        XCTAssertEqual(restore.status, 0, restore.stderr)
        let writers = try await platform.session().rds(MotoPlatform.primary).dbInstances(inCluster: name).map(\.identifier)
        XCTAssertEqual(writers.count, 1)
        XCTAssertLessThanOrEqual(writers[0].count, 63, "\(writers)")
        XCTAssertTrue(writers[0].hasSuffix("-1"), "\(writers)")
    }

    func testARoute53ChangeForLongNamesKeepsItsCommentWithin256Characters() async throws {
        let platform = try await MotoPlatform.make(noAuth: true)
        let zone = "\(platform.id).example.com"
        let body = """
        <?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">\
        <Name>\(zone)</Name><CallerReference>\(platform.id)</CallerReference></CreateHostedZoneRequest>
        """
        _ = try await platform.session().route53().client.send(AWSRequest(operation: "CreateHostedZone",
            input: .rest(method: "POST", path: "/2013-04-01/hostedzone", body: Data(body.utf8))))
        let label = String(repeating: "r", count: 60)
        let record = "\(label).\(label).\(label).\(zone)"
        let to = "\(String(repeating: "d", count: 60)).\(String(repeating: "e", count: 60)).\(String(repeating: "f", count: 60)).rds.amazonaws.com"
        let (result, _) = try platform.dr(["failover", "--zone", zone, "--record", record, "--to", to, "--create", "--timeout", "60"],
                                          ["AWS_ENDPOINT_URL_ROUTE_53": platform.moto.absoluteString])
        XCTAssertEqual(result.status, 0, result.stderr)
        let log = try XCTUnwrap(ProcessInfo.processInfo.environment[AWSRequestRecorder.variable], "make test records every AWS request")
        let change = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .last { $0["operation"] as? String == "ChangeResourceRecordSets" && ($0["body"] as? String)?.contains(zone) == true }
        let xml = try XCTUnwrap(change?["body"] as? String)
        let comment = try XCTUnwrap(xml.range(of: "<Comment>").flatMap { start in xml.range(of: "</Comment>").map { String(xml[start.upperBound..<$0.lowerBound]) } })
        XCTAssertLessThanOrEqual(comment.count, 256, comment)
        XCTAssertTrue(comment.hasPrefix("dr failover: rrr"), comment)
    }

    func testSTSSettingsAWSWouldRefuseAreBadInputNamingTheProfileAndKey() throws {
        let folder = NSTemporaryDirectory() + "dr-sts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
        [profile ops]
        role_arn = arn:aws:iam::123456789012:role/dr-ops
        source_profile = base
        duration_seconds = 86400
        [profile base]
        aws_access_key_id = AKIABASE
        aws_secret_access_key = base-secret-key
        """.write(toFile: folder + "/config", atomically: true, encoding: .utf8)
        let result = try DRBinary.run(["aws", "whoami", "--profile", "ops", "--region", "us-east-1"], environment: [
            "HOME": folder, "AWS_CONFIG_FILE": folder + "/config", "AWS_SHARED_CREDENTIALS_FILE": folder + "/none",
            "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("AWS credentials from profile ops failed: duration_seconds must be 900 to 43200 seconds (it is 86400)"), result.stderr)
        XCTAssertFalse(result.stderr.contains("base-secret-key"))
    }
}
