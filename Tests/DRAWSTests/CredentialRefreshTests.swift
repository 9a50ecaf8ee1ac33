@testable import DRAWS
import DRCore
import XCTest

final class CredentialRefreshTests: XCTestCase {
    func testCachedUntilFiveMinutesBeforeExpiry() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let cache = RefreshingCredentialProvider(base, clock: clock)
        let first = try await cache.credentials()
        clock.advance(3600 - 301)
        let stillCached = try await cache.credentials()
        XCTAssertEqual(stillCached, first)
        XCTAssertEqual(base.calls, 1)
        clock.advance(2) // now 299 s before expiry: inside the window
        let refreshed = try await cache.credentials()
        XCTAssertEqual(base.calls, 2)
        XCTAssertNotEqual(refreshed.accessKeyId, first.accessKeyId)
    }

    func testExpiredCredentialsAreRefreshed() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 900)
        let cache = RefreshingCredentialProvider(base, clock: clock)
        _ = try await cache.credentials()
        clock.advance(1000)
        let refreshed = try await cache.credentials()
        XCTAssertEqual(refreshed.accessKeyId, "AKIACOUNTING2")
        XCTAssertGreaterThan(refreshed.expiration!, clock.now())
    }

    func testLongTermCredentialsAreFetchedOnce() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: nil)
        let cache = RefreshingCredentialProvider(base, clock: clock)
        for _ in 0..<5 { _ = try await cache.credentials(); clock.advance(86400) }
        XCTAssertEqual(base.calls, 1)
        await cache.invalidate()
        _ = try await cache.credentials()
        XCTAssertEqual(base.calls, 2)
    }

    func testConcurrentCallersShareOneRefresh() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600, delayNanoseconds: 200_000_000)
        let cache = RefreshingCredentialProvider(base, clock: clock)
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.credentials().accessKeyId } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(base.calls, 1, "fifty concurrent callers, one fetch")
        XCTAssertEqual(Set(keys), ["AKIACOUNTING1"])

        clock.advance(3500) // stale: the next wave refreshes once
        let again = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.credentials().accessKeyId } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(base.calls, 2)
        XCTAssertEqual(Set(again), ["AKIACOUNTING2"])
    }

    func testFailedRefreshKeepsStillValidCredentialsAndRetriesLater() async throws {
        let clock = ManualClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let cache = RefreshingCredentialProvider(base, clock: clock)
        let first = try await cache.credentials()
        clock.advance(3400) // stale but not expired
        base.failWith = CredentialProviderError.failed("counting", "endpoint down")
        let fallback = try await cache.credentials()
        XCTAssertEqual(fallback, first)
        XCTAssertEqual(base.calls, 2)
        clock.advance(300) // now expired: the failure surfaces
        do {
            _ = try await cache.credentials()
            XCTFail("expected the refresh error")
        } catch let error as CredentialProviderError {
            XCTAssertEqual(error.reason, "endpoint down")
        }
        base.failWith = nil
        let recovered = try await cache.credentials()
        XCTAssertEqual(recovered.accessKeyId, "AKIACOUNTING4")
    }

    func testChainWithProcessSourceRefreshesOnExpiry() async throws {
        // End to end: a credential_process whose output expires is run again when it does.
        let home = try TempHome()
        let counter = home.path + "/count"
        let script = try home.write("bin/creds.sh", """
        #!/bin/sh
        n=$(($(cat \(counter) 2>/dev/null || echo 0) + 1)); echo $n > \(counter)
        echo "{\\"Version\\": 1, \\"AccessKeyId\\": \\"ASIAPROC$n\\", \\"SecretAccessKey\\": \\"s\\", \\"Expiration\\": \\"2023-11-14T22:43:20Z\\"}"
        """, executable: true)
        try home.config("[default]\ncredential_process = \(script)\n")
        let clock = ManualClock() // 2023-11-14T22:13:20Z; the output expires 30 minutes later
        let chain = StandardCredentialChain(configuration: try AWSConfiguration(environment: home.environment(["PATH": "/usr/bin:/bin"])),
                                            services: .test(clock: clock))
        let a = try await chain.credentials().accessKeyId
        let b = try await chain.credentials().accessKeyId
        XCTAssertEqual([a, b], ["ASIAPROC1", "ASIAPROC1"])
        clock.advance(26 * 60)
        let c = try await chain.credentials().accessKeyId
        XCTAssertEqual(c, "ASIAPROC2")
    }
}
