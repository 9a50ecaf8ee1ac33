import ArgumentParser
import DRCore
import DRProcedures
import DRRunbook
import DRRunbookEngine
import Foundation

/// `dr runbook validate FILE|NAME`, `dr runbook list`.
struct RunbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook", abstract: "Work with runbooks.", subcommands: [Validate.self, List.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a runbook without running it: fields, procedures, parameters, types and references, with file:line:column.")

        @Argument(help: "The runbook: a YAML file, or a name as dr runbook list shows.") var file: String
        @OptionGroup var config: ConfigOption
        @OptionGroup var stateOptions: StateOptions

        func run() async throws {
            let library = RunbookLibrary.standard(configFile: ConfigLoader.resolvePath(explicit: config.config), state: stateOptions.state)
            let (runbook, label) = try library.load(file)
            Terminal.writeStdout("\(label): ok: \(runbook.name), \(runbook.steps.count) steps, \(runbook.finally.count) finally steps\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The runbooks dr can run by name, and the file (or the built-in copy) each name resolves to.",
            discussion: "A file NAME.yml in runbooks/ of the working directory, in runbooks/ beside the config, or in PREFIX/share/dr/runbooks (in that order) wins over the runbook built into dr.")

        @OptionGroup var config: ConfigOption
        @OptionGroup var output: OutputOptions<TextOrJSON>
        @OptionGroup var stateOptions: StateOptions

        func run() async throws {
            let library = RunbookLibrary.standard(configFile: ConfigLoader.resolvePath(explicit: config.config), state: stateOptions.state)
            let entries = library.list()
            if output.format == .json { return Terminal.writeStdout(try DRJSON.string(RunbookListing(folders: library.folders, runbooks: entries))) }
            let width = entries.map(\.name.count).max() ?? 0
            var out = ""
            for e in entries {
                out += "\(e.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(e.file ?? "built into dr")"
                if !e.shadows.isEmpty { out += "  (hides \(e.shadows.joined(separator: ", ")))" }
                out += "\n"
            }
            out += "Searched, in order: \(library.folders.joined(separator: ", ")), then the runbooks built into dr.\n"
            Terminal.writeStdout(out)
        }
    }
}

struct RunbookListing: Encodable {
    var folders: [String]
    var runbooks: [RunbookLibrary.Entry]
}
