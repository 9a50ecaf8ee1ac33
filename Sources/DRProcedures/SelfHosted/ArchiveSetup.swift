import DRCore
import Foundation

/// `dr archive setup`: the server settings continuous archiving into the repository needs.
struct ArchiveSetup {
    let settings: PostgresTargetSettings
    let repository: Repository
    /// The `dr` executable the server will run as archive_command.
    let drExecutable: String

    struct Change: Codable, Equatable {
        var name: String
        var current: String
        var wanted: String
        var needsRestart: Bool
    }

    struct Plan: Codable, Equatable {
        var server: String
        var changes: [Change]
        var applied: Bool
        var restartNeeded: Bool
        var serverUser: String?
    }

    /// archive_command runs through the shell: quote every path for it.
    var archiveCommand: String {
        "\(ShellQuote.quote(drExecutable)) wal-push --repository \(ShellQuote.quote(repository.root)) %p"
    }

    /// Bounds the data-loss exposure of a quiet server: a partly filled segment is archived after a minute.
    static let archiveTimeout = "60"

    func run(apply: Bool) throws -> Plan {
        let source = try SourceDatabase.connect(settings.conninfo, purpose: "set up archiving")
        defer { source.connection.close() }
        let dataDirectory = try source.dataDirectory
        let serverUser = OSUser.owner(of: dataDirectory) ?? OSUser.serverUser
        try repository.checkUsable(writableBy: serverUser, subdirectory: "wal")
        guard FileManager.default.isExecutableFile(atPath: drExecutable) else {
            throw DRError.badInput("The dr executable \(drExecutable) is not executable; archive_command needs an absolute path to it. Nothing was changed.")
        }
        let current = try source.archiveSettings()
        let timeout = try source.setting("archive_timeout")
        var changes: [Change] = []
        if !["replica", "logical"].contains(current.walLevel) {
            changes.append(Change(name: "wal_level", current: current.walLevel, wanted: "replica", needsRestart: true))
        }
        if !["on", "always"].contains(current.archiveMode) {
            changes.append(Change(name: "archive_mode", current: current.archiveMode, wanted: "on", needsRestart: true))
        }
        if current.archiveCommand != archiveCommand {
            changes.append(Change(name: "archive_command", current: current.archiveCommand, wanted: archiveCommand, needsRestart: false))
        }
        if timeout == "0" {
            changes.append(Change(name: "archive_timeout", current: timeout, wanted: Self.archiveTimeout, needsRestart: false))
        }
        var restart = changes.contains { $0.needsRestart } || !current.pendingRestart.isEmpty
        if apply {
            try repository.prepare(walOwner: serverUser)
            for change in changes { try source.alterSystem(change.name, change.wanted) }
            if !changes.isEmpty { try source.reloadConfiguration() }
            let pending = try source.archiveSettings().pendingRestart
            restart = restart || !pending.isEmpty
        }
        return Plan(server: source.safeName, changes: changes, applied: apply, restartNeeded: restart, serverUser: serverUser?.name)
    }
}

enum ShellQuote {
    /// Single-quotes for sh, unless the text is plainly safe.
    static func quote(_ s: String) -> String {
        let safe = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:=@%".contains($0) }
        return safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
