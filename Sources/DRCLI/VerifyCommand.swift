import ArgumentParser

/// Placeholder until the verifier lands (issue 2).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify a restored database.")
    func run() async throws {}
}
