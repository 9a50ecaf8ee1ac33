import ArgumentParser
import DRCore
import DRVerify
import Foundation

/// `dr verify --db CONNINFO (--manifest FILE | --against CONNINFO)`.
struct VerifyCompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a database with a manifest or a live source (the default: `dr verify --db ... --manifest ...`)."
    )

    @OptionGroup var database: DatabaseReadOptions

    @Option(name: .long, help: ArgumentHelp("A manifest written by `dr verify capture`.", valueName: "file"))
    var manifest: String?

    @Option(name: .long, help: ArgumentHelp("A live source database to compare with (conninfo or URI).", valueName: "conninfo"))
    var against: String?

    @Option(name: .long, help: ArgumentHelp(
        "Row-count tolerance per table: exact, at-least, or within=PCT.", valueName: "mode"))
    var rows: RowTolerance = .exact

    @Option(name: .customLong("map-role"), help: ArgumentHelp(
        "A role of the reference and its name here (old=new), for owners, privileges and memberships; repeat for more.",
        valueName: "old=new"))
    var mapRole: [String] = []

    @Flag(name: .customLong("allow-other-database"), help: ArgumentHelp(
        "Compare with a manifest of a database of another name in another cluster (a restore under another name)."))
    var allowOtherDatabase = false

    @Option(name: .long, help: "Report format: text, json (one document on stdout) or junit (JUnit XML).")
    var output: OutputFormat = .text

    func validate() throws {
        switch (manifest, against) {
        case (nil, nil):
            throw ValidationError("Say what to compare with: --manifest FILE (from `dr verify capture`) or --against CONNINFO (a live source).")
        case (_?, _?):
            throw ValidationError("Give either --manifest or --against, not both.")
        default:
            break
        }
        _ = try roles()
    }

    func roles() throws -> RoleMap {
        do { return try RoleMap(parsing: mapRole) } catch let error as DRError {
            throw ValidationError(error.message(in: .verifyFlags))
        }
    }

    func run() async throws {
        let reference: Reference
        if let manifest {
            reference = .manifestFile(URL(fileURLWithPath: manifest))
        } else {
            reference = .live(conninfo: against ?? "")
        }
        let options = VerifyOptions(capture: try database.captureOptions(), rows: rows, roles: try roles(),
                                    allowOtherDatabase: allowOtherDatabase)
        let db = database.db
        let report = try await runInterruptibly {
            try await Verifier.verify(conninfo: db, against: reference, options: options)
        }
        switch output {
        case .text: Terminal.writeStdout(ReportRenderer.text(report, paint: Terminal.paint))
        case .json: Terminal.writeStdout(try ReportRenderer.json(report))
        case .junit: Terminal.writeStdout(ReportRenderer.junit(report))
        case .prometheus, .html: throw ValidationError("--output \(output.rawValue) is not available for dr verify; use text, json or junit.")
        }
        if !report.passed { throw DRError(.problemFound, "") }
    }
}
