import ArgumentParser
import DRCore
import DRProcedures

/// `dr wal-fetch --repository DIR %f %p` — PostgreSQL's restore_command.
///
/// Exit status follows restore_command's contract rather than dr's table: 0 restored; 1, quietly,
/// when the file is not in the archive (how recovery finds the end of the archive); 126 when the
/// file is there but damaged, which makes PostgreSQL abort recovery instead of promoting early.
struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch",
        abstract: "Restore one WAL file from the archive (restore_command: dr wal-fetch --repository DIR %f %p).",
        discussion: "Exits 0 when restored, 1 (quietly) when the file is not in the archive, 126 when it is damaged.")

    static let damagedExitCode: Int32 = 126

    @Argument(help: "The WAL file's name (%f).") var name: String
    @Argument(help: "Where to write it (%p).") var destination: String
    @Option(help: "The repository folder.") var repository: String?
    @Option(help: "Or: a target in dr.yml whose repository to use.") var target: String?
    @OptionGroup var config: ConfigOption

    func run() async throws {
        let repo = try WalRepositoryChoice(repository: repository, target: target, config: config).resolve()
        let (name, destination) = (self.name, self.destination)
        switch try await offloadBlocking({ try WalArchiveCommands.fetch(repository: repo, name: name, destination: destination) }) {
        case .restored: return
        case .notInArchive: throw ExitCode(1)
        case .damaged(let message):
            Terminal.error(message)
            throw ExitCode(Self.damagedExitCode)
        }
    }
}
