import DRAWS
import DRCore
import Foundation
import DRRunbook
import DRRunbookEngine

/// Posts a short Slack-compatible message (`{"text": ...}`) about a drill to a webhook.
/// The URL is a secret (a Slack webhook carries its token in the path): only its host is ever shown.
public struct DrillNotifier: Sendable {
    public enum When: String, Sendable, CaseIterable { case failure, success }

    public var url: URL
    /// Failures are always sent; successes too when this holds `.success`.
    public var on: Set<When>
    public var transport: HTTPTransport
    public var timeout: Double = 15

    public init(url: URL, on: Set<When> = [.failure], transport: HTTPTransport = CurlTransport()) {
        self.url = url
        self.on = on.union([.failure])
        self.transport = transport
    }

    /// Parses `--notify URL`: http or https, with a host.
    public static func parseURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw DRError.badInput("--notify needs an http(s) URL such as a Slack incoming-webhook URL; the value given is not one. Nothing was restored.")
        }
        return url
    }

    public func shouldSend(_ report: DrillReport) -> Bool { on.contains(report.passed ? .success : .failure) }

    public static func message(_ report: DrillReport) -> [String: String] {
        let icon = report.passed ? ":white_check_mark:" : ":rotating_light:"
        var text = "\(icon) Restore drill of *\(report.target)* \(report.verdict.rawValue)"
        text += report.recoverySeconds.map { " — recovery \(DurationText.format($0))" } ?? ""
        text += report.freshness.seconds.map { ", data \(DurationText.format($0)) before the recovery point" } ?? ""
        text += " (point \(report.point.recoveryPoint), drill \(report.drillID))"
        if let failure = report.failure { text += "\n> \(failure)" }
        return ["text": text]
    }

    /// Sends the message when `on` asks for it; returns whether it was sent.
    @discardableResult
    public func send(_ report: DrillReport) async throws -> Bool {
        guard shouldSend(report) else { return false }
        let body = Redact.secrets(in: try JSONSerialization.data(withJSONObject: Self.message(report), options: [.sortedKeys]))
        let request = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body)
        let shown = "\(url.scheme ?? "http")://\(url.host ?? "")/…"
        let response: HTTPResponse
        do { response = try await transport.send(request, timeout: timeout) } catch {
            throw DRError.remote("The drill notification to \(shown) could not be sent: \(String(describing: error).replacingOccurrences(of: url.absoluteString, with: shown)).")
        }
        guard (200..<300).contains(response.status) else {
            throw DRError.remote("The drill notification to \(shown) was refused with HTTP \(response.status).")
        }
        return true
    }
}
