import DRCore
import Foundation

/// `dr archive setup`: the server settings continuous archiving into the repository needs, with
/// the target's compression and encryption, and an `archive_timeout` that fits its RPO.
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
        var cost: QuietServerCost
        var notes: [String]
    }

    /// archive_command runs through the shell: quote every path for it.
    var archiveCommand: String {
        "\(ShellQuote.quote(drExecutable)) \(Self.pushArguments(settings))"
    }

    /// What follows the executable in archive_command: the repository and how files are stored.
    static func pushArguments(_ settings: PostgresTargetSettings) -> String {
        var words = ["wal-push", "--repository", ShellQuote.quote(settings.repository)]
        switch settings.compression {
        case .none: words += ["--compression", "none"]
        case .zstd(let level): words += ["--compression", "zstd", "--compression-level", String(level)]
        }
        switch settings.encryption {
        case .file(let path)?: words += ["--key-file", ShellQuote.quote(path)]
        case .environment(let name)?: words += ["--key-env", name]
        case nil: break
        }
        return (words + ["%p"]).joined(separator: " ")
    }

    /// The archive_timeout that keeps a quiet server's exposure within `rpo`: the RPO less a
    /// margin for the push itself (a tenth of it, at least 5 s), at least 1 s.
    static func archiveTimeout(rpo: Double) -> Int {
        max(1, Int((rpo - max(5, rpo / 10)).rounded(.down)))
    }

    /// What that timeout costs on a quiet server: a segment forced out every `archiveTimeout`
    /// seconds, stored at full size raw, or as its compressed form (measured here on a
    /// segment of empty WAL pages, which is what a forced switch on a quiet server leaves).
    struct QuietServerCost: Codable, Equatable {
        var rpoSeconds: Double
        var archiveTimeoutSeconds: Int
        var segmentsPerDay: Int
        var segmentBytes: Int64
        var storedBytesPerSegment: Int64
        var storedBytesPerDay: Int64
    }

    static func cost(rpo: Double, segmentSize: Int64, compression: PostgresTargetSettings.Compression) -> QuietServerCost {
        let timeout = archiveTimeout(rpo: rpo)
        let perDay = Int((86400.0 / Double(timeout)).rounded(.up))
        var stored = segmentSize
        if case .zstd(let level) = compression {
            stored = Int64(ZstdCompressor.compressedSize(of: emptySegment(size: Int(segmentSize)), level: Int32(level)))
        }
        return QuietServerCost(rpoSeconds: rpo, archiveTimeoutSeconds: timeout, segmentsPerDay: perDay, segmentBytes: segmentSize,
                               storedBytesPerSegment: stored, storedBytesPerDay: stored * Int64(perDay))
    }

    /// A segment of initialised but empty WAL pages (page headers, zeros), as a switch leaves it.
    static func emptySegment(size: Int) -> Data {
        var data = Data(count: size)
        for offset in stride(from: 0, to: size, by: 8192) {
            // xlp_magic 0xD110, xlp_info, xlp_tli 1, xlp_pageaddr (little-endian), as PostgreSQL 15 writes them.
            let header: [UInt8] = [0x10, 0xD1, offset == 0 ? 6 : 4, 0, 1, 0, 0, 0] + withUnsafeBytes(of: UInt64(offset).littleEndian, Array.init)
            data.replaceSubrange(offset..<offset + header.count, with: header)
        }
        return data
    }

    func run(apply: Bool) throws -> Plan {
        let source = try SourceDatabase.connect(settings.conninfo, purpose: "set up archiving")
        defer { source.connection.close() }
        let dataDirectory = try source.dataDirectory
        let serverUser = OSUser.owner(of: dataDirectory) ?? OSUser.serverUser
        try repository.checkUsable(writableBy: serverUser, subdirectory: "wal")
        guard FileManager.default.isExecutableFile(atPath: drExecutable) else {
            throw DRError.badInput("The dr executable \(drExecutable) is not executable; archive_command needs an absolute path to it. Nothing was changed.")
        }
        let key = try settings.encryption.map { try RepositoryKey.load($0) }
        try repository.checkKey(key, recording: false)
        var notes: [String] = []
        switch settings.encryption {
        case .file(let path)?:
            if let serverUser, !serverUser.canRead(path) {
                throw DRError(.invalidConfig, "The key file \(path) is not readable by the OS user \(serverUser.name), which runs archive_command. Give that user read access (e.g. `chown \(serverUser.name) \(path); chmod 0400 \(path)`). Nothing was changed.")
            }
        case .environment(let name)?:
            if !Self.serverEnvironmentHas(name, dataDirectory: dataDirectory) {
                notes.append("archive_command reads the key from the environment variable \(name), which the running server's environment does not have: set it where the server is started (e.g. Environment= in its systemd unit) and restart the server, or archiving will fail.")
            }
        case nil: break
        }
        let current = try source.archiveSettings()
        let timeout = try source.setting("archive_timeout")
        let segmentSize = Int64(try source.setting("wal_segment_size")) ?? 16 << 20
        let cost = Self.cost(rpo: settings.rpo, segmentSize: segmentSize, compression: settings.compression)
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
        if timeout != String(cost.archiveTimeoutSeconds) {
            changes.append(Change(name: "archive_timeout", current: timeout, wanted: String(cost.archiveTimeoutSeconds), needsRestart: false))
        }
        var restart = changes.contains { $0.needsRestart } || !current.pendingRestart.isEmpty
        if apply {
            try repository.checkKey(key, recording: true)
            try repository.prepare(walOwner: serverUser)
            for change in changes { try source.alterSystem(change.name, change.wanted) }
            if !changes.isEmpty { try source.reloadConfiguration() }
            let pending = try source.archiveSettings().pendingRestart
            restart = restart || !pending.isEmpty
        }
        return Plan(server: source.safeName, changes: changes, applied: apply, restartNeeded: restart,
                    serverUser: serverUser?.name, cost: cost, notes: notes)
    }

    /// Whether the running postmaster's environment sets `name` (readable by root or its owner).
    static func serverEnvironmentHas(_ name: String, dataDirectory: String) -> Bool {
        guard let pid = ServerControl.runningPID(dataDirectory: dataDirectory),
              let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return true }
        return data.split(separator: 0).contains { $0.starts(with: Array((name + "=").utf8)) }
    }
}

enum ShellQuote {
    /// Single-quotes for sh, unless the text is plainly safe.
    static func quote(_ s: String) -> String {
        let safe = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:=@%".contains($0) }
        return safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
