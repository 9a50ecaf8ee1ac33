import ArgumentParser
import DRCore
import DRVerify
import Foundation

/// `dr verify capture --db CONNINFO --out FILE`.
struct VerifyCaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Write a manifest of a database: its schema and the exact row count of every table."
    )

    @OptionGroup var database: DatabaseReadOptions

    @Option(name: .long, help: ArgumentHelp("Where to write the manifest (JSON).", valueName: "file"))
    var out: String

    @Option(name: .long, help: "Summary format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if output == .junit { throw ValidationError("--output junit applies to comparisons; use text or json.") }
    }

    func run() async throws {
        let options = try database.captureOptions()
        let db = database.db
        let manifest = try await runInterruptibly { try await Manifest.capture(conninfo: db, options: options) }
        try manifest.write(to: URL(fileURLWithPath: out))
        switch output {
        case .json:
            struct Summary: Encodable { var manifest: String; var capturedAt: String; var server: ServerIdentity; var objects: Int; var tables: Int; var rows: Int64 }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let data = try encoder.encode(Summary(manifest: out, capturedAt: manifest.capturedAt, server: manifest.server,
                                                  objects: manifest.objectCount, tables: manifest.rowCounts.count, rows: manifest.totalRows))
            Terminal.writeStdout(String(decoding: data, as: UTF8.self) + "\n")
        default:
            Terminal.writeStdout("Captured \(manifest.server.target) at \(manifest.capturedAt): \(manifest.objectCount) objects, \(manifest.rowCounts.count) tables, \(manifest.totalRows) rows → \(out)\n")
        }
    }
}
