import DRCore
import Foundation

/// Where runs keep their journals and locks: `--state-dir`, else `DR_STATE_DIR`, else
/// `$XDG_STATE_HOME/dr`, else `~/.local/state/dr`.
public struct StateDirectory: Sendable {
    public var root: String

    public init(root: String) { self.root = root }

    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> StateDirectory {
        if let explicit, !explicit.isEmpty { return StateDirectory(root: explicit) }
        if let env = environment["DR_STATE_DIR"], !env.isEmpty { return StateDirectory(root: env) }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return StateDirectory(root: xdg + "/dr") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateDirectory(root: home + "/.local/state/dr")
    }

    public var runsDirectory: String { root + "/runs" }
    public var locksDirectory: String { root + "/locks" }

    public func journalPath(_ runID: String) -> String { "\(runsDirectory)/\(runID).jsonl" }
    public func runLockPath(_ runID: String) -> String { "\(locksDirectory)/run-\(runID).lock" }
    public func targetLockPath(_ target: String) -> String {
        let safe = String(target.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "\(locksDirectory)/target-\(safe).lock"
    }

    public func create() throws {
        for dir in [runsDirectory, locksDirectory] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw DRError.badInput("Cannot create the state directory \(dir): \(error.localizedDescription). Set --state-dir or DR_STATE_DIR to a writable folder.")
            }
        }
    }

    /// Run ids that have a journal, oldest first (ids start with their UTC start time).
    public func runIDs() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
        return files.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) }.sorted()
    }

    /// A new run id: `20261120T120000Z-restore-drill-3fa2`.
    public static func newRunID(name: String, at date: Date) -> String {
        let stamp = RFC3339.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let slug = String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
            .split(separator: "-").joined(separator: "-")
        let suffix = String(format: "%04x", UInt16.random(in: 0...UInt16.max))
        return "\(stamp)-\(slug.isEmpty ? "run" : slug)-\(suffix)"
    }
}
