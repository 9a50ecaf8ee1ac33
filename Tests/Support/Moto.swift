import DRCore
import Foundation

/// The moto AWS emulators `make test` starts (scripts/with-test-servers.sh).
public enum Moto {
    /// moto with request authentication on: wrong signatures fail.
    public static func url(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        URL(string: try TestEnvironment.require("DR_TEST_MOTO_URL", file: file, line: line))!
    }
    /// moto with authentication off (Route 53: moto's check rejects its body-less requests).
    public static func noAuthURL(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        URL(string: try TestEnvironment.require("DR_TEST_MOTO_NOAUTH_URL", file: file, line: line))!
    }
    /// An access key moto's IAM knows, with an allow-everything policy.
    public static func accessKey(file: StaticString = #filePath, line: UInt = #line) throws -> (id: String, secret: String) {
        (try TestEnvironment.require("DR_TEST_AWS_ACCESS_KEY_ID", file: file, line: line),
         try TestEnvironment.require("DR_TEST_AWS_SECRET_ACCESS_KEY", file: file, line: line))
    }
}

/// scripts/fault-proxy.py on a free port in front of `upstream`; stopped by `stop()` or deinit.
public final class FaultProxy: @unchecked Sendable {
    public let url: URL
    private let process: Process

    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/fault-proxy.py").path
    }

    /// `schedule`: faults for the first requests in order (`503`, `throttle`, `drop`, `denied`, `delay`, `ok`...);
    /// `ratio`/`seed`/`kinds`: a repeatable random share of faulty requests after the schedule;
    /// `reportStates`: RDS resource id → (state, n): its first n descriptions say `state` instead of `available`;
    /// `log`: a file the proxy appends one JSON line per forwarded request to (start, end, method, path, form);
    /// `echoActions`: operations answered with an error that echoes the request (body, token and signature headers).
    public init(upstream: URL, schedule: [String] = [], ratio: Double = 0, seed: Int = 1,
                kinds: [String] = ["500", "503", "throttle", "drop"], delay: Double = 2,
                reportStates: [String: (state: String, times: Int)] = [:], log: String? = nil, echoActions: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.scriptPath, "--upstream", upstream.absoluteString,
                             "--schedule", schedule.joined(separator: ","), "--ratio", String(ratio), "--seed", String(seed),
                             "--kinds", kinds.joined(separator: ","), "--delay", String(delay),
                             "--report-state", reportStates.map { "\($0.value.state):\($0.value.times):\($0.key)" }.joined(separator: ",")]
            + (log.map { ["--log", $0] } ?? []) + (echoActions.isEmpty ? [] : ["--echo-action", echoActions.joined(separator: ",")])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        // The first line is `PORT <n>`.
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw TestEnvironment.MissingServer(name: "fault proxy (\(text))")
        }
        url = URL(string: "http://127.0.0.1:\(port)")!
    }

    /// The proxy's counters: `requests`, `faults`, `forwarded`.
    public func stats() throws -> [String: Int] {
        let result = try SystemProcessRunner.runBlocking("curl", ["-sf", "--max-time", "5", url.appendingPathComponent("__fault/stats").absoluteString])
        let data = Data(result.stdout.utf8)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? Int }
    }

    /// SIGTERM, then SIGKILL if the proxy has not exited within 3 s (a handler thread stuck
    /// on a dropped upstream connection can keep it from shutting down).
    public func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        process.terminate()
        // Bounded: poll for the exit rather than block, then SIGKILL.
        for _ in 0..<50 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
