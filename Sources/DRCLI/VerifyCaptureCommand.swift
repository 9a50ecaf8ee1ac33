import ArgumentParser
import DRCore
import DRVerify
import Foundation

/// `dr verify capture --db CONNINFO --out FILE [--content checksum]`.
struct VerifyCaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Write a manifest of a database: its schema, owners and privileges, the exact row count of every table, and with --content checksum every table's content checksum."
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
        let hashed = manifest.contents.map { $0.checksums.count }
        switch output {
        case .json:
            struct Summary: Encodable {
                var manifest: String, capturedAt: String, server: ServerIdentity
                var objects: Int, tables: Int, rows: Int64, content: String, tablesHashed: Int?
            }
            Terminal.writeStdout(try DRJSON.string(Summary(
                manifest: out, capturedAt: manifest.capturedAt, server: manifest.server, objects: manifest.objectCount,
                tables: manifest.rowCounts.count, rows: manifest.totalRows, content: options.content.rawValue, tablesHashed: hashed)))
        default:
            let contents = hashed.map { ", \($0) hashed" } ?? ""
            Terminal.writeStdout("Captured \(manifest.server.target) at \(manifest.capturedAt): \(manifest.objectCount) objects, \(manifest.rowCounts.count) tables\(contents), \(manifest.totalRows) rows → \(out)\n")
        }
    }
}
