import ArgumentParser
import DRProcedures

/// `dr targets`: the targets in the config file.
struct TargetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "targets", abstract: "List the targets in dr.yml.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func run() async throws {
        let config = try configOption.load()
        let listing = TargetsListing(file: config.file, targets: config.targets.map {
            .init(name: $0.name, provider: $0.providerName, settings: $0.summary)
        })
        try output.emit(listing) {
            var lines = ["\(config.file): \(listing.targets.count) target(s)"]
            for t in listing.targets {
                lines.append("\(t.name) (provider \(t.provider))")
                for (k, v) in t.settings.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
            }
            return lines.joined(separator: "\n")
        }
    }
}

struct TargetsListing: Encodable {
    struct Entry: Encodable {
        var name: String
        var provider: String
        var settings: [String: String]
    }
    var file: String
    var targets: [Entry]
}
