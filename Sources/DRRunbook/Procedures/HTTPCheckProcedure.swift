import DRAWS
import DRCore
import DRRunbookEngine
import Foundation

/// `http.check`: a smoke check of an application — GET `url` until it answers `expect_status`
/// (default 200), for at most `within` (default 2m), trying again 1 s, 2 s, 4 s … (at most 10 s)
/// apart: a service that just became stable may still be registering with its load balancer.
/// Reads only. A URL that never answers as expected fails the step as a problem found (exit 1),
/// with what it last answered.
///
/// The request goes through dr's HTTP transport (libcurl, TLS verified, the proxy variables).
/// User and password in the URL and its query are never shown.
public struct HTTPCheckProcedure: ProcedureExecutor {
    public var transport: any HTTPTransport
    public var clock: DRClock

    public init(transport: any HTTPTransport = CurlTransport(), clock: DRClock) {
        self.transport = transport
        self.clock = clock
    }

    static let maxDelay = 10.0

    public func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        let expect = call.int("expect_status") ?? 200
        let within = DurationText.compact(call.duration("within") ?? 120)
        guard let text = call.string("url") else {
            return [.read("GET (url at run time: \(call.pending["url"] ?? "?")) until it answers \(expect), within \(within)", call: "http:GET")]
        }
        let url = try Self.url(text, step: call.stepID)
        return [.read("GET \(Self.shown(url)) until it answers \(expect), within \(within)", call: "http:GET")]
    }

    public func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        guard let text = call.string("url") else { throw DRError(.invalidParameter, "Step '\(call.stepID)': http.check needs `url`.") }
        let url = try Self.url(text, step: call.stepID)
        let expect = call.int("expect_status") ?? 200
        let within = call.duration("within") ?? 120
        guard (100...599).contains(expect), within > 0 else {
            throw DRError(.invalidParameter, "Step '\(call.stepID)': http.check needs `expect_status` between 100 and 599 and a positive `within`.")
        }
        let started = clock.now()
        let deadline = started.addingTimeInterval(within)
        var attempt = 0, last = "no answer yet", delay = 1.0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let left = deadline.timeIntervalSince(clock.now())
            do {
                let response = try await transport.send(HTTPRequest(method: "GET", url: url), timeout: max(1, min(10, left)))
                if response.status == expect {
                    return ["status": .int(response.status), "attempts": .int(attempt), "elapsed": .duration(clock.now().timeIntervalSince(started))]
                }
                last = "HTTP \(response.status)"
            } catch let error as TransportError {
                last = "\(error.kind.rawValue): \(Redact.secrets(in: error.message))"
            }
            let remaining = deadline.timeIntervalSince(clock.now())
            guard remaining > 0 else {
                throw DRError(.smokeCheckFailed, "Step '\(call.stepID)': GET \(Self.shown(url)) did not answer \(expect) within \(DurationText.compact(within)) (\(attempt) attempt\(attempt == 1 ? "" : "s"); last: \(last)).")
            }
            try await clock.sleep(seconds: min(delay, remaining))
            delay = min(Self.maxDelay, delay * 2)
        }
    }

    /// An http or https URL with a host; bad input otherwise.
    static func url(_ text: String, step: String) throws -> URL {
        guard let url = URL(string: text.trimmingCharacters(in: .whitespaces)), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw DRError(.invalidParameter, "Step '\(step)': http.check's `url` must be an http:// or https:// URL with a host, such as https://app.example.com/health. Nothing was changed.")
        }
        return url
    }

    /// The URL as it may be shown: no user or password, query values masked.
    static func shown(_ url: URL) -> String {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.host ?? "?" }
        parts.user = nil
        parts.password = nil
        parts.queryItems = parts.queryItems?.map { URLQueryItem(name: $0.name, value: $0.value == nil ? nil : Redact.mask) }
        return parts.string ?? url.host ?? "?"
    }
}

extension DRError.Code {
    /// An application's smoke check did not answer as expected: the work ran and found a problem.
    public static let smokeCheckFailed = DRError.Code("smoke_check_failed", .problemFound)
}
