import ArgumentParser
import DRCore
import DRProcedures

/// `dr wal-fetch --repository DIR [--key-file F | --key-env N] %f %p` — PostgreSQL's restore_command.
///
/// Exit status follows restore_command's contract rather than dr's table: 0 restored; 1, quietly,
/// when the file is not in the archive (how recovery finds the end of the archive); 126 when the
/// file is there but cannot be used (damaged, or encrypted with another key), which makes
/// PostgreSQL abort recovery instead of promoting early.
struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch",
        abstract: "Restore one WAL file from the archive (restore_command: dr wal-fetch --repository DIR %f %p).",
        discussion: "Decompresses and decrypts as the file is stored. Exits 0 when restored, 1 (quietly) when the file is not in the archive, 126 when it is damaged or needs another key.")

    static let damagedExitCode: Int32 = 126

    @Argument(help: "The WAL file's name (%f).") var name: String
    @Argument(help: "Where to write it (%p).") var destination: String
    @OptionGroup var choice: WalRepositoryChoice

    func run() async throws {
        let resolved: WalRepositoryChoice.Resolved
        do { resolved = try choice.resolve() } catch let error as DRError {
            // Not knowing where the archive is must stop recovery, not look like its end.
            Terminal.error(error.message)
            throw ExitCode(Self.damagedExitCode)
        }
        let (name, destination) = (self.name, self.destination)
        switch try await offloadBlocking({ try WalArchiveCommands.fetch(repository: resolved.repository, name: name, destination: destination,
                                                                         encryption: resolved.encryption) }) {
        case .restored: return
        case .notInArchive: throw ExitCode(1)
        case .damaged(let message):
            Terminal.error(message)
            throw ExitCode(Self.damagedExitCode)
        }
    }
}
