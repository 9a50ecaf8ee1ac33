import DRCore
import Foundation

/// Runs `pgbackrest` for one stanza: as the OS user that owns the source's data directory, with
/// `--config` and `--stanza`, its output captured and shown (secrets masked) when it fails.
struct PgBackRestCommand {
    let settings: PgBackRestTargetSettings
    let executable: String
    /// Who runs it: the owner of the stanza's `pg1-path` (the data directory), else the server user.
    let user: OSUser?

    static let failed = DRError.Code("pgbackrest_failed", .localFailure)

    /// Checks what every procedure needs before anything runs (bad input, exit 2): the binary
    /// and a readable config. Registers the repository keys the config and environment hold, so
    /// no output of dr ever shows them.
    init(settings: PgBackRestTargetSettings, targetName: String) throws {
        guard let exe = SystemProcessRunner.which("pgbackrest") else {
            throw DRError(.invalidConfig, "Target \(targetName) is a provider pgbackrest target, but the `pgbackrest` program was not found on PATH. Install it (apt-get install pgbackrest) and run the command again. Nothing was changed.")
        }
        guard let data = FileManager.default.contents(atPath: settings.config) else {
            throw DRError(.invalidConfig, "Target \(targetName)'s pgBackRest config \(settings.config) (`config:` in dr.yml) does not exist or cannot be read. Point `config:` at the pgbackrest.conf of stanza \(settings.stanza), or make it readable. Nothing was changed.")
        }
        let ini = PgBackRestConfig(text: String(decoding: data, as: UTF8.self))
        ini.registerSecrets(environment: ProcessInfo.processInfo.environment)
        self.settings = settings
        self.executable = exe
        let dataDirectory = ini.value("pg1-path", stanza: settings.stanza)
        self.user = dataDirectory.flatMap(OSUser.owner(of:)) ?? OSUser.serverUser
    }

    /// The stanza's data directory, from the config.
    static func dataDirectory(_ settings: PgBackRestTargetSettings) -> String? {
        guard let data = FileManager.default.contents(atPath: settings.config) else { return nil }
        return PgBackRestConfig(text: String(decoding: data, as: UTF8.self)).value("pg1-path", stanza: settings.stanza)
    }

    /// The words a plan and the call log use for a mutating call: `pgbackrest backup --repo=1 --type=full`.
    static func call(_ command: String, _ options: [String]) -> String {
        (["pgbackrest", command] + options).joined(separator: " ")
    }

    /// Runs `pgbackrest OPTIONS COMMAND`; `mutating` calls are recorded in the call log first.
    @discardableResult
    func run(_ command: String, _ options: [String], mutating: Bool, extra: [String] = []) throws -> ProcessResult {
        if mutating { CallLog.record(Self.call(command, options)) }
        let args = ["--config=\(settings.config)", "--stanza=\(settings.stanza)", "--log-level-console=warn", "--log-level-stderr=off"]
            + options + extra + [command]
        let argv: [String]
        if OSUser.isRoot, let user, user.uid != 0 {
            argv = ["/usr/sbin/runuser", "-u", user.name, "--", executable] + args
        } else {
            argv = [executable] + args
        }
        let result = try SystemProcessRunner.runBlocking(argv[0], Array(argv.dropFirst()))
        guard result.succeeded else {
            let output = Redact.secrets(in: (result.stdout + "\n" + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines))
            let tail = output.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw DRError(Self.failed, "pgbackrest \(command) for stanza \(settings.stanza) failed (exit \(result.status)):\n\(tail)")
        }
        return result
    }

    /// `pgbackrest info --output=json`, decoded; a stanza that does not exist is bad input.
    func info(targetName: String) throws -> PgBackRestInfo {
        let out = try run("info", ["--output=json"], mutating: false)
        let stanzas: [PgBackRestInfo]
        do {
            stanzas = try JSONDecoder().decode([PgBackRestInfo].self, from: Data(out.stdout.utf8))
        } catch {
            throw DRError(Self.failed, "pgbackrest info for stanza \(settings.stanza) printed something dr cannot read (\(error)).")
        }
        guard let info = stanzas.first(where: { $0.name == settings.stanza }) else {
            throw DRError(.invalidConfig, "pgbackrest info does not know the stanza \(settings.stanza) (`stanza:` of target \(targetName)). Check the name, or create it with `pgbackrest --stanza=\(settings.stanza) stanza-create`. Nothing was changed.")
        }
        if info.status.code == 1 {
            throw DRError(.invalidConfig, "The pgBackRest stanza \(settings.stanza) (`stanza:` of target \(targetName)) does not exist in its repositories (\(info.status.message)). Check the name, or create it with `pgbackrest --config=\(settings.config) --stanza=\(settings.stanza) stanza-create`. Nothing was changed.")
        }
        return info
    }
}

/// pgbackrest.conf as far as dr reads it: `key=value` lines in `[global]` and `[stanza]` sections.
struct PgBackRestConfig {
    var sections: [String: [String: String]] = [:]

    init(text: String) {
        var section = "global"
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") { section = String(line.dropFirst().dropLast()); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
    }

    /// The stanza's value, else the global one.
    func value(_ key: String, stanza: String) -> String? {
        sections[stanza]?[key] ?? sections["global"]?[key]
    }

    /// Options whose values are secrets (repository cipher passes, object-store keys and tokens).
    static func isSecret(_ option: String) -> Bool {
        let o = option.lowercased().replacingOccurrences(of: "_", with: "-")
        return ["cipher-pass", "s3-key", "s3-key-secret", "s3-token", "azure-key", "gcs-key", "sftp-private-key-passphrase"].contains { o.hasSuffix($0) }
            && (o.hasPrefix("repo") || o.hasPrefix("pgbackrest-repo"))
    }

    /// Registers every secret the config and the `PGBACKREST_*` environment hold with `Redact`.
    func registerSecrets(environment: [String: String]) {
        for (_, options) in sections { for (k, v) in options where Self.isSecret(k) { Redact.register(v) } }
        for (k, v) in environment where k.hasPrefix("PGBACKREST_") && Self.isSecret(k) { Redact.register(v) }
    }
}
