import ArgumentParser
import DRCore
import DRProcedures

/// `dr wal-push --repository DIR [--compression zstd --compression-level N] [--key-file F | --key-env N] %p`
/// — PostgreSQL's archive_command, as `dr archive setup` writes it.
struct WalPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push",
        abstract: "Archive one WAL file (archive_command: dr wal-push --repository DIR ... %p).",
        discussion: "Exits 0 when the file is archived or already archived with the same content; non-zero otherwise, so PostgreSQL retries.")

    @Argument(help: "The WAL file's path (%p).") var path: String
    @OptionGroup var choice: WalRepositoryChoice
    @Option(help: "zstd or none (default: as stored before compression, none; --target: the target's).") var compression: String?
    @Option(name: .customLong("compression-level"), help: "zstd level, 1-19 (default 3).") var level: Int?

    func validate() throws {
        if let compression, !["zstd", "none"].contains(compression) { throw ValidationError("--compression must be zstd or none, not \(compression).") }
        if let level, !(1...19).contains(level) { throw ValidationError("--compression-level must be 1 to 19, not \(level).") }
        if level != nil, compression != "zstd" { throw ValidationError("--compression-level goes with --compression zstd.") }
        try choice.validate()
    }

    func run() async throws {
        let resolved = try choice.resolve()
        var settings = resolved.compression
        if let compression { settings = compression == "none" ? .none : .zstd(level: level ?? 3) }
        let (path, encryption, compressionSetting) = (self.path, resolved.encryption, settings)
        _ = try await offloadBlocking {
            try WalArchiveCommands.push(repository: resolved.repository, file: path, compression: compressionSetting, encryption: encryption)
        }
    }
}

/// `--repository DIR` (with the key options) or `--target NAME`.
struct WalRepositoryChoice: ParsableArguments {
    @Option(help: "The repository folder.") var repository: String?
    @Option(help: "Or: a target in dr.yml whose repository and settings to use.") var target: String?
    @OptionGroup var config: ConfigOption
    @Option(name: .customLong("key-file"), help: "The encryption key's file (an encrypted repository).") var keyFile: String?
    @Option(name: .customLong("key-env"), help: "Or: the environment variable holding the encryption key.") var keyEnv: String?

    func validate() throws {
        if keyFile != nil, keyEnv != nil { throw ValidationError("Give --key-file or --key-env, not both.") }
    }

    struct Resolved {
        var repository: String
        var compression: PostgresTargetSettings.Compression
        var encryption: KeySource?
    }

    func resolve() throws -> Resolved {
        let key: KeySource? = keyFile.map(KeySource.file) ?? keyEnv.map(KeySource.environment)
        if let repository { return Resolved(repository: repository, compression: .none, encryption: key) }
        guard let target else { throw DRError.badInput("Say which repository: --repository DIR (as `dr archive setup` writes it) or --target NAME.") }
        let loaded = try config.load()
        let s = try Providers.selfHosted(try loaded.target(named: target), context: CommandContext.make(config: loaded)).settings
        return Resolved(repository: s.repository, compression: s.compression, encryption: key ?? s.encryption)
    }
}
