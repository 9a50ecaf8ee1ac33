import Foundation

/// The calls that change something, as they are made: the primitives that mutate the world
/// (an AWS request, `pg_ctl start`, a folder removed, a service file rewritten) say so here, in
/// the same words a plan uses for them. With `DR_CALL_LOG=FILE` each is appended to FILE as a
/// JSON line; otherwise nothing is recorded. Tests compare it with the plan: a run makes exactly
/// the changes its plan listed.
public enum CallLog {
    private static let lock = NSLock()

    /// Records `call` (`rds:CreateDBSnapshot`, `pg_ctl start`) when a call log is configured.
    public static func record(_ call: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["DR_CALL_LOG"], !path.isEmpty else { return }
        let line = (try? DRJSON.encode(["call": call], .line)).map { $0 + Data([0x0A]) } ?? Data()
        lock.withLock {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            guard fd >= 0 else { return }
            defer { close(fd) }
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }
}
