import DRCore
import Foundation

/// A libpq connection service file (`pg_service.conf`): `[name]` sections of `key=value` lines.
/// `dr failover` rewrites one entry atomically and keeps what it replaced as `[name-previous]`.
struct ServiceFile {
    let path: String

    struct Section: Equatable {
        var name: String
        var lines: [String]
    }

    static func previousName(_ service: String) -> String { service + "-previous" }

    func read() throws -> (preamble: [String], sections: [Section]) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], []) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DRError.badInput("The service file \(path) cannot be read. Check its permissions. Nothing was changed.")
        }
        var preamble: [String] = [], sections: [Section] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
                sections.append(Section(name: String(trimmed.dropFirst().dropLast()), lines: []))
            } else if sections.isEmpty {
                preamble.append(line)
            } else {
                sections[sections.count - 1].lines.append(line)
            }
        }
        return (preamble, sections)
    }

    /// The entry `service` as one line of `key=value` pairs; nil when the file has no such entry.
    func entry(_ service: String) throws -> String? {
        try read().sections.first { $0.name == service }.map { content($0.lines).joined(separator: " ") }
    }

    /// Sets `service` to `entry` (`key=value` pairs, one line of them) and `[service-previous]` to
    /// `previous` (removed when nil), in one atomic rewrite; every other entry is kept as it is.
    func set(_ service: String, to entry: String, previous: String?) throws {
        var (preamble, sections) = try read()
        sections.removeAll { $0.name == service || $0.name == Self.previousName(service) }
        if let previous { sections.append(Section(name: Self.previousName(service), lines: Self.lines(previous))) }
        sections.append(Section(name: service, lines: Self.lines(entry)))
        try write(preamble: preamble, sections: sections)
    }

    /// An entry's one-line form back as lines, one `key=value` each (values hold no spaces:
    /// they come from a conninfo dr printed, or from this file).
    static func lines(_ entry: String) -> [String] { entry.split(separator: " ").map(String.init) }

    /// The `key=value` lines of an entry, without blanks.
    private func content(_ lines: [String]) -> [String] {
        lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    private func write(preamble: [String], sections: [Section]) throws {
        CallLog.record("write \(path) atomically")
        var out = preamble.filter { !$0.isEmpty }
        for section in sections {
            if !out.isEmpty { out.append("") }
            out.append("[\(section.name)]")
            out.append(contentsOf: content(section.lines))
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: dir) else {
            throw DRError.badInput("The folder of the service file \(path) does not exist. Create it or set `service_file:` on the target. Nothing was changed.")
        }
        try FileOps.writeAtomically(Data((out.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o644)
    }
}
