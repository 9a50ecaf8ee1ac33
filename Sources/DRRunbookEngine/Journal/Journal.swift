import DRCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's journal: one JSON line per event, each appended and fsync'ed before the engine acts
/// on it, so a run killed at any point can be resumed from what it had done.
public final class Journal: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var linesWritten = 0
    /// Crash injection for the crash tests, like PostgreSQL's injection points: with
    /// `DR_CRASH_AFTER_JOURNAL_LINES=N` this process SIGKILLs itself right after it has appended
    /// (and fsync'ed) its N-th line (unless that line ends the run), so a test can stop a run exactly at each step boundary
    /// however fast the machine. Never set outside tests.
    private let crashAfterLines = ProcessInfo.processInfo.environment["DR_CRASH_AFTER_JOURNAL_LINES"].flatMap { Int($0) }

    /// Opens (creating) the journal for appending. A last line cut short by a crash is removed
    /// first, so the next line starts cleanly.
    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DRError.badInput("Cannot open the journal \(path): \(String(cString: strerror(errno))). Check --state-dir.") }
        try Self.trimPartialLastLine(fd: fd, path: path)
    }

    deinit { close(fd) }

    public func append(_ header: RunHeader) throws { try write(.header(header)) }
    public func append(_ entry: JournalEntry) throws { try write(.entry(entry)) }

    private func write(_ line: JournalLine) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(RFC3339.format(date, fractional: true))
        }
        // Every secret in play, in any encoding, is masked before it can reach the file.
        var data = Redact.secrets(in: try encoder.encode(line))
        data.append(0x0A)
        try lock.withLock {
            let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written == data.count, fsync(fd) == 0 else {
                throw DRError.badInput("Cannot write the journal \(path): \(String(cString: strerror(errno))). Free some space or choose another --state-dir.")
            }
            linesWritten += 1
            if linesWritten == crashAfterLines, !line.isFinish { kill(getpid(), SIGKILL) }
        }
    }

    private static func trimPartialLastLine(fd: Int32, path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != 0x0A else { return }
        let keep = data.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        guard ftruncate(fd, off_t(keep)) == 0 else {
            throw DRError.badInput("Cannot repair the journal \(path): \(String(cString: strerror(errno))).")
        }
    }

    /// Reads a journal. A last line that does not parse (the run was killed mid-write) is ignored;
    /// any other bad line is an error.
    public static func read(path: String) throws -> (header: RunHeader, entries: [JournalEntry]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DRError.badInput("No journal at \(path). Check the run id with `dr runs` and the --state-dir.")
        }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        var header: RunHeader?
        var entries: [JournalEntry] = []
        for (number, line) in lines.enumerated() {
            let parsed: JournalLine
            do {
                parsed = try decoder.decode(JournalLine.self, from: Data(line))
            } catch {
                if number == lines.count - 1 && data.last != 0x0A { break }
                throw DRError.badInput("\(path):\(number + 1): the journal line does not parse (\(error)). The journal is damaged; the run cannot be resumed.")
            }
            switch parsed {
            case .header(let h) where header == nil && number == 0: header = h
            case .entry(let e) where header != nil: entries.append(e)
            default:
                throw DRError.badInput("\(path):\(number + 1): a journal starts with one `run` line followed by events; this one does not.")
            }
        }
        guard let header else { throw DRError.badInput("\(path): the journal has no `run` line; the run cannot be resumed.") }
        return (header, entries)
    }
}

private extension JournalLine {
    var isFinish: Bool {
        if case .entry(let entry) = self, case .finished = entry.event { return true }
        return false
    }
}
