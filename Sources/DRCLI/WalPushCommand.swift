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
    @Option(name: .long, help: "The targets config file.") var config: String?

    func run() async throws {
        let repo = try WalRepositoryChoice(repository: repository, target: target, config: config).resolve()
        _ = try await offloadBlocking { try WalArchiveCommands.push(repository: repo, file: path) }
    }
}

/// `--repository DIR` or `--target NAME`.
struct WalRepositoryChoice {
    var repository: String?
    var target: String?
    var config: String?

    func resolve() throws -> String {
        if let repository { return repository }
        guard let target else { throw DRError.badInput("Say which repository: --repository DIR (as `dr archive setup` writes it) or --target NAME.") }
        let t = try ConfigLoader.load(explicit: config).target(named: target)
        guard case .postgres(let s) = t.provider else {
            throw DRError.badInput("\(target) is not a provider postgres target; WAL archiving is for self-hosted PostgreSQL.")
        }
        return s.repository
    }
}
