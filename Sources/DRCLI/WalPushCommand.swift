import ArgumentParser
import DRCore
import DRProcedures

/// `dr wal-push --repository DIR %p` — PostgreSQL's archive_command.
struct WalPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push",
        abstract: "Archive one WAL file (archive_command: dr wal-push --repository DIR %p).",
        discussion: "Exits 0 when the file is archived or already archived with the same content; non-zero otherwise, so PostgreSQL retries.")

    @Argument(help: "The WAL file's path (%p).") var path: String
    @Option(help: "The repository folder.") var repository: String?
    @Option(help: "Or: a target in dr.yml whose repository to use.") var target: String?
    @OptionGroup var config: ConfigOption

    func run() async throws {
        let repo = try WalRepositoryChoice(repository: repository, target: target, config: config).resolve()
        _ = try await offloadBlocking { try WalArchiveCommands.push(repository: repo, file: path) }
    }
}

/// `--repository DIR` or `--target NAME`.
struct WalRepositoryChoice {
    var repository: String?
    var target: String?
    var config: ConfigOption

    func resolve() throws -> String {
        if let repository { return repository }
        guard let target else { throw DRError.badInput("Say which repository: --repository DIR (as `dr archive setup` writes it) or --target NAME.") }
        let loaded = try config.load()
        return try Providers.selfHosted(try loaded.target(named: target), context: CommandContext.make(config: loaded)).settings.repository
    }
}
