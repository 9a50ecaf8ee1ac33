import DRCore
import DRRunbookEngine
import Foundation

/// A runbook compiled into the binary (ShippedRunbooks.swift, generated from runbooks/*.yml).
public struct ShippedRunbook: Sendable, Equatable {
    public var name: String
    public var text: String
    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// Finds a runbook by name: a file `NAME.yml` in `runbooks/` of the working directory, beside
/// the config, or in `$PREFIX/share/dr/runbooks` (the installed copy) wins, in that order;
/// else the runbook of that name compiled into the binary. A shipped runbook runs from a copy
/// written once into the state directory under its digest, so a journal always names a file
/// that holds exactly the text it ran (and `--resume` finds it after an upgrade of dr).
public struct RunbookLibrary: Sendable {
    /// The folders searched, in order, without repeats.
    public var folders: [String]
    public var shipped: [ShippedRunbook]
    /// Where shipped runbooks are written to run from (`STATE/runbooks`).
    public var materializeDirectory: String

    public init(folders: [String], shipped: [ShippedRunbook] = ShippedRunbooks.all, materializeDirectory: String) {
        var seen = Set<String>()
        self.folders = folders.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.filter { seen.insert($0).inserted }
        self.shipped = shipped
        self.materializeDirectory = materializeDirectory
    }

    /// The standard places: `runbooks/` in `workingDirectory`, beside `configFile`, and the
    /// installed `share/dr/runbooks` found from the running executable (`PREFIX/bin/dr`).
    public static func standard(workingDirectory: String = FileManager.default.currentDirectoryPath,
                                configFile: String?, state: StateDirectory,
                                executable: String? = RunbookLibrary.executablePath()) -> RunbookLibrary {
        var folders = [workingDirectory + "/runbooks"]
        if let configFile { folders.append(URL(fileURLWithPath: configFile).deletingLastPathComponent().path + "/runbooks") }
        if let executable {
            let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent().path
            folders.append(prefix + "/share/dr/runbooks")
        }
        return RunbookLibrary(folders: folders, materializeDirectory: state.root + "/runbooks")
    }

    /// The running binary, symlinks resolved (`/proc/self/exe`).
    public static func executablePath() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// What a name resolves to.
    public enum Source: Sendable, Equatable {
        case file(String)
        case shipped(ShippedRunbook)
    }

    public struct Entry: Sendable, Encodable, Equatable {
        public var name: String
        /// The file that wins, or nil for the compiled-in copy.
        public var file: String?
        public var builtIn: Bool
        /// Files of the same name further down the search order, and the compiled-in copy, that it hides.
        public var shadows: [String]
        public var description: String?
    }

    static let builtInLabel = "built into dr"

    /// True when `argument` is a runbook name (`weekly-snapshot`, `weekly-snapshot.yml`) rather than a path.
    public static func isName(_ argument: String) -> Bool { !argument.contains("/") }

    static func bareName(_ argument: String) -> String {
        for suffix in [".yml", ".yaml"] where argument.hasSuffix(suffix) { return String(argument.dropLast(suffix.count)) }
        return argument
    }

    public func candidates(_ name: String) -> [String] { folders.map { "\($0)/\(name).yml" } }

    public func source(of argument: String) throws -> Source {
        let name = Self.bareName(argument)
        if let file = candidates(name).first(where: { FileManager.default.fileExists(atPath: $0) }) { return .file(file) }
        if let shipped = shipped.first(where: { $0.name == name }) { return .shipped(shipped) }
        let known = shipped.map(\.name).joined(separator: ", ")
        throw DRError(.notFound, "There is no runbook named \(name): no file \(candidates(name).joined(separator: ", ")), and none of that name is built into dr (built in: \(known)). Give the path of a runbook file, or put \(name).yml in one of those folders.")
    }

    /// The file to run for `argument`: a path as given; a name resolved as `source(of:)` says,
    /// a shipped runbook written (once) to `STATE/runbooks/NAME-DIGEST.yml`.
    public func path(for argument: String) throws -> String {
        guard Self.isName(argument) else { return argument }
        if FileManager.default.fileExists(atPath: argument) { return argument }
        switch try source(of: argument) {
        case .file(let file): return file
        case .shipped(let runbook): return try materialize(runbook)
        }
    }

    /// Parses and validates a runbook given by path or name, without writing anything.
    public func load(_ argument: String) throws -> (runbook: Runbook, label: String) {
        if !Self.isName(argument) || FileManager.default.fileExists(atPath: argument) {
            return (try RunSession.load(argument, catalog: .standard).runbook, argument)
        }
        switch try source(of: argument) {
        case .file(let file): return (try RunSession.load(file, catalog: .standard).runbook, file)
        case .shipped(let runbook):
            let label = "\(runbook.name) (\(Self.builtInLabel))"
            let parsed = try RunbookParser.parse(runbook.text, file: "\(runbook.name).yml")
            try Validator(catalog: .standard).validate(parsed)
            return (parsed, label)
        }
    }

    func materialize(_ runbook: ShippedRunbook) throws -> String {
        let path = "\(materializeDirectory)/\(runbook.name)-\(Digest.fnv1a(runbook.text)).yml"
        if (try? String(contentsOfFile: path, encoding: .utf8)) == runbook.text { return path }
        do {
            try FileManager.default.createDirectory(atPath: materializeDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let temp = path + ".\(getpid()).tmp"
            try Data(runbook.text.utf8).write(to: URL(fileURLWithPath: temp))
            guard rename(temp, path) == 0 else { throw DRError.local("rename \(temp): \(String(cString: strerror(errno)))") }
        } catch {
            throw DRError(.storage, "Cannot write the built-in runbook \(runbook.name) to \(path) (\(error.localizedDescription)). Make the state directory writable, or give the path of a runbook file.")
        }
        return path
    }

    /// Every name a runbook can be run by: the shipped ones and every `*.yml` in the folders,
    /// each with the file (or the compiled-in copy) it resolves to.
    public func list() -> [Entry] {
        var names = Set(shipped.map(\.name))
        for folder in folders {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where file.hasSuffix(".yml") {
                names.insert(String(file.dropLast(4)))
            }
        }
        return names.sorted().map { name in
            var found = candidates(name).filter { FileManager.default.fileExists(atPath: $0) }
            let builtIn = shipped.first { $0.name == name }
            if builtIn != nil { found.append(Self.builtInLabel) }
            let winner = found.first.flatMap { $0 == Self.builtInLabel ? nil : $0 }
            let text = winner.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? builtIn?.text
            return Entry(name: name, file: winner, builtIn: winner == nil, shadows: Array(found.dropFirst()),
                         description: text.flatMap { try? RunbookParser.parse($0, file: name) }?.description)
        }
    }
}
