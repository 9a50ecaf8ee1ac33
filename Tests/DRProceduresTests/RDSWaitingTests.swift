import DRAWS
import DRCore
@testable import DRProcedures
import Foundation
import XCTest

/// What moto cannot show: intermediate states, backoff, failure states, timeouts and a real
/// restorable window. A fake transport answers RDS calls from a script; a `ManualClock` moves
/// only when the waiter sleeps.
final class RDSWaitingTests: XCTestCase {
    /// Answers by Action: DescribeDBInstances returns the source, or the new instance in the next scripted state.
    final class FakeRDS: HTTPTransport, @unchecked Sendable {
        let lock = NSLock()
        var restoredStates: [String]
        var actions: [String] = []
        var bodies: [String] = []
        let window: (earliest: Date, latest: Date)

        init(states: [String], window: (Date, Date)) {
            restoredStates = states
            self.window = window
        }

        func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
            let body = String(decoding: request.body, as: UTF8.self)
            let fields = Dictionary(body.split(separator: "&").map { pair -> (String, String) in
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                return (kv[0], kv.count > 1 ? kv[1] : "")
            }) { a, _ in a }
            let action = fields["Action"] ?? ""
            let xml: String = lock.withLock {
                actions.append(action)
                bodies.append(body)
                switch action {
                case "DescribeDBInstances" where fields["DBInstanceIdentifier"] == "src":
                    return Self.instance("src", "available", latest: window.latest)
                case "DescribeDBInstances":
                    if restoredStates.isEmpty { return "" }
                    let state = restoredStates.count > 1 ? restoredStates.removeFirst() : restoredStates[0]
                    return state == "absent" ? "" : Self.instance("new", state, latest: nil, tags: state == "creating")
                case "DescribeDBInstanceAutomatedBackups":
                    return "<DBInstanceAutomatedBackups><DBInstanceAutomatedBackup><Status>active</Status><RestoreWindow><EarliestTime>\(RFC3339.format(window.earliest))</EarliestTime><LatestTime>\(RFC3339.format(window.latest))</LatestTime></RestoreWindow></DBInstanceAutomatedBackup></DBInstanceAutomatedBackups>"
                default:
                    return Self.instance("new", "creating", latest: nil)
                }
            }
            if action == "DescribeDBInstances" && !xml.contains("<DBInstance>") && fields["DBInstanceIdentifier"] != "src" {
                return HTTPResponse(status: 404, body: Data("<ErrorResponse><Error><Code>DBInstanceNotFound</Code><Message>none</Message></Error></ErrorResponse>".utf8))
            }
            let wrapped = action == "DescribeDBInstances" ? "<DBInstances>\(xml)</DBInstances>" : xml
            return HTTPResponse(status: 200, body: Data("<\(action)Response><\(action)Result>\(wrapped)</\(action)Result></\(action)Response>".utf8))
        }

        static func instance(_ id: String, _ status: String, latest: Date?, tags: Bool = true) -> String {
            "<DBInstance><DBInstanceIdentifier>\(id)</DBInstanceIdentifier><DBInstanceStatus>\(status)</DBInstanceStatus><DBInstanceClass>db.r6g.large</DBInstanceClass><MultiAZ>true</MultiAZ><BackupRetentionPeriod>7</BackupRetentionPeriod>"
                + (latest.map { "<LatestRestorableTime>\(RFC3339.format($0))</LatestRestorableTime>" } ?? "")
                + "<Endpoint><Address>\(id).rds.example</Address><Port>5432</Port></Endpoint>"
                + (tags ? "<TagList><Tag><Key>dr:managed</Key><Value>true</Value></Tag><Tag><Key>dr:target</Key><Value>prod-db</Value></Tag><Tag><Key>dr:restored-from</Key><Value>src@x</Value></Tag><Tag><Key>dr:kind</Key><Value>restore</Value></Tag></TagList>" : "")
                + "</DBInstance>"
        }

        var mutating: [String] { lock.withLock { actions.filter { !$0.hasPrefix("Describe") && !$0.hasPrefix("List") } } }
    }

    let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))

    func provider(_ transport: FakeRDS, timeout: Double? = nil, noWait: Bool = false) throws -> RDSProvider {
        let env = AWSEnvironment(variables: ["AWS_ENDPOINT_URL": "https://rds.test"], homeDirectory: "/nonexistent")
        let session = RDSSession(configuration: try AWSConfiguration(environment: env),
                                 credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRETKEY123456")),
                                 transport: transport, retry: RetryPolicy(maxAttempts: 1), clock: clock)
        let settings = RDSTargetSettings(region: "us-east-1", resource: .instance("src"))
        return try RDSProvider(target: Target(name: "prod-db", provider: .rds(settings)), settings: settings,
                               context: ProviderContext(wait: WaitSettings(timeout: timeout, noWait: noWait), clock: clock,
                                                        stateDirectory: NSTemporaryDirectory() + "dr-waiting-\(UUID().uuidString)",
                                                        aws: SharedAWSSession(session)))
    }

    var window: (Date, Date) { (clock.now().addingTimeInterval(-7 * 86400), clock.now().addingTimeInterval(-300)) }

    func testRestoreWaitsThroughIntermediateStatesPollingWithin5SecondsThenBackingOff() async throws {
        let fake = FakeRDS(states: ["absent", "creating", "creating", "creating", "modifying", "backing-up", "available"], window: window)
        let result = try await provider(fake).restore(RestoreRequest(point: .latestRestorable, name: "new", rds: RDSRestoreOverrides(multiAZ: false)))
        XCTAssertEqual(result.endpoint?.description, "new.rds.example:5432")
        XCTAssertEqual(fake.mutating.filter { $0.hasPrefix("Restore") }, ["RestoreDBInstanceToPointInTime"])
        let restoreBody = fake.bodies.first { $0.contains("Action=RestoreDBInstanceToPointInTime") } ?? ""
        XCTAssertTrue(restoreBody.contains("MultiAZ=false"), restoreBody)
        XCTAssertTrue(restoreBody.contains("DBInstanceClass=db.r6g.large"), "class carried over: \(restoreBody)")
        let sleeps = clock.sleeps
        XCTAssertEqual(sleeps.first, 5, "the first poll comes within 5 s: \(sleeps)")
        XCTAssertGreaterThan(sleeps.last ?? 0, 5, "then the waiter backs off: \(sleeps)")
        XCTAssertTrue(zip(sleeps, sleeps.dropFirst()).allSatisfy { $0 <= $1 }, "\(sleeps)")
    }

    func testAFailureStateEndsTheWaitAtOnceWithExit3() async throws {
        for state in ["incompatible-restore", "failed", "incompatible-parameters", "storage-full"] {
            let fake = FakeRDS(states: ["absent", "creating", state], window: window)
            let start = clock.now()
            do {
                _ = try await provider(fake).restore(RestoreRequest(point: .latestRestorable, name: "new"))
                XCTFail("\(state) must end the wait")
            } catch let error as DRError {
                XCTAssertEqual(error.exitStatus, .remote, error.message)
                XCTAssertTrue(error.message.contains(state), error.message)
                XCTAssertLessThan(clock.now().timeIntervalSince(start), 30, "ended at once, not at the deadline")
            }
        }
    }

    func testATimeoutExits4SayingWhatItWaitedForAndWhatItLastSaw() async throws {
        let fake = FakeRDS(states: ["absent", "creating"], window: window)
        do {
            _ = try await provider(fake, timeout: 120).restore(RestoreRequest(point: .latestRestorable, name: "new"))
            XCTFail("must time out")
        } catch let error as DRError {
            XCTAssertEqual(error.exitStatus, .timedOut)
            XCTAssertTrue(error.message.contains("DB instance new to be available"), error.message)
            XCTAssertTrue(error.message.contains("\"creating\""), error.message)
        }
        XCTAssertLessThanOrEqual(clock.sleeps.reduce(0, +), 120.5)
    }

    func testATimeOutsideTheWindowIsRefusedBeforeAnyMutatingCallWithTheWindowInTheMessage() async throws {
        let (earliest, latest) = window
        for time in [earliest.addingTimeInterval(-1), latest.addingTimeInterval(1), clock.now().addingTimeInterval(3600)] {
            let fake = FakeRDS(states: ["absent"], window: (earliest, latest))
            await assertBadInput(try await provider(fake).restore(RestoreRequest(point: .pointInTime(time), name: "new")),
                                 contains: RFC3339.format(earliest, fractional: true))
            XCTAssertEqual(fake.mutating, [], "no mutating call before refusing")
        }
        let fake = FakeRDS(states: ["absent", "available"], window: (earliest, latest))
        let inside = try await provider(fake).restore(RestoreRequest(point: .pointInTime(latest.addingTimeInterval(-60)), name: "new"))
        XCTAssertEqual(inside.requestedTime, latest.addingTimeInterval(-60))
        let body = fake.bodies.first { $0.contains("Action=RestoreDBInstanceToPointInTime") } ?? ""
        XCTAssertTrue(body.contains("RestoreTime="), body)
    }

    func testNoWaitReturnsOnceAccepted() async throws {
        let fake = FakeRDS(states: ["absent", "creating"], window: window)
        let p = try provider(fake, noWait: true)
        let result = try await p.restore(RestoreRequest(point: .latestRestorable, name: "new"))
        XCTAssertEqual(result.waited, false)
        XCTAssertEqual(clock.sleeps, [])
    }

    func testRetentionSelectionIsOldestFirstOnlyDrOfTargetAndKindNeverTheNewOne() {
        func snap(_ id: String, _ age: Double, target: String = "t", kind: String = "weekly", managed: Bool = true) -> RDSSnapshotInfo {
            RDSSnapshotInfo(id: id, arn: nil, status: "available", createdAt: Date(timeIntervalSince1970: 1_000_000 - age), encrypted: false,
                            kmsKeyId: nil, source: "db", tags: managed ? DRTags.make(kind: kind, target: target) : [])
        }
        let all = [snap("w1", 40), snap("w2", 30), snap("w3", 20), snap("w4", 10), snap("other", 50, target: "u"),
                   snap("adhoc", 60, kind: "adhoc"), snap("hand", 70, managed: false), snap("just", 100)]
        // Newest two of t/weekly are w4 and w3 ("just" is oldest here but is never deleted); w1 (oldest) goes first.
        XCTAssertEqual(RDSRetention.toDelete(all, target: "t", kind: "weekly", keep: 2, justMade: "just").map(\.id), ["w1", "w2"])
    }

    func testNamesAndIdentifierRules() throws {
        let date = RFC3339.parse("2026-11-20T12:04:59Z")!
        XCTAssertEqual(RDSNames.weeklySnapshot(target: "prod-db", at: date), "dr-prod-db-weekly-2026-w47")
        XCTAssertEqual(RDSNames.weeklySnapshot(target: "Prod_DB", at: RFC3339.parse("2027-01-01T00:00:00Z")!), "dr-prod-db-weekly-2026-w53")
        // Ad-hoc snapshots are named to the second; a second one in the same second gets a suffix.
        XCTAssertEqual(RDSNames.adhocSnapshot(target: "prod-db", at: date), "dr-prod-db-20261120-120459")
        XCTAssertEqual(RDSNames.adhocSnapshot(target: "prod-db", at: date, taken: ["dr-prod-db-20261120-120459"]), "dr-prod-db-20261120-120459-2")
        XCTAssertEqual(RDSNames.copyName(of: "rds:prod-2026-11-20"), "dr-copy-prod-2026-11-20")
        for bad in ["", "1abc", "a--b", "a-", "a_b", String(repeating: "a", count: 64)] {
            XCTAssertThrowsError(try RDSNames.checkInstanceIdentifier(bad, parameter: .name), bad)
        }
        XCTAssertNoThrow(try RDSNames.checkInstanceIdentifier("prod-db-pitr-1", parameter: .name))
    }

    func testSecretFieldsBecomeAQuotedConninfoAndMissingFieldsNameNoValue() throws {
        let c = try DatabaseCredentials.conninfo(["host": "h", "port": "5432", "username": "u", "password": "p'w\\x", "database": "d"],
                                                 secret: "s", host: nil, port: nil)
        XCTAssertEqual(c, #"host='h' port='5432' user='u' password='p\'w\\x' dbname='d' sslmode='require'"#)
        XCTAssertThrowsError(try DatabaseCredentials.conninfo(["host": "h", "username": "u", "token": "zzz-secret"], secret: "s", host: nil, port: nil)) {
            XCTAssertTrue("\($0)".contains("password"))
            XCTAssertFalse("\($0)".contains("zzz-secret"))
        }
    }
}
