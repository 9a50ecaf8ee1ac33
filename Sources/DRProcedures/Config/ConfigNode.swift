import DRCore
import Foundation
import Yams

/// A YAML node together with the file it came from, so every complaint names file:line:column.
///
/// The loader walks the document through these typed accessors instead of decoding it, because
/// `Decodable` loses the position of the offending key; here every error points at it.
struct ConfigNode {
    let node: Node
    let file: String
    /// Where the node sits in the document, for messages: `targets.prod-db.retention`.
    let path: String

    var location: String {
        guard let mark = node.mark else { return file }
        return "\(file):\(mark.line):\(mark.column)"
    }

    func error(_ problem: String) -> DRError {
        .badInput("\(location): \(problem) Fix \(file) and run the command again.")
    }

    /// The entries of a mapping, in file order, refusing keys outside `allowed` and
    /// reporting the first missing `required` key at the mapping itself.
    func mapping(allowed: [String], required: [String] = []) throws -> [(key: String, value: ConfigNode)] {
        guard case let .mapping(mapping) = node else {
            throw error("\(path) must be a mapping (key: value lines), not \(kind).")
        }
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            let key = ConfigNode(node: keyNode, file: file, path: path)
            guard let name = keyNode.scalar?.string else { throw key.error("\(path) has a key that is not a plain name.") }
            guard allowed.contains(name) else {
                throw key.error("unknown key \"\(name)\" in \(path). Known keys: \(allowed.joined(separator: ", ")).")
            }
            entries.append((name, ConfigNode(node: valueNode, file: file, path: path.isEmpty ? name : "\(path).\(name)")))
        }
        for key in required where !entries.contains(where: { $0.key == key }) {
            throw error("\(path) is missing the required key \"\(key)\".")
        }
        return entries
    }

    /// Every key of a mapping whose keys are free-form names (target names, tags).
    func namedEntries() throws -> [(key: String, value: ConfigNode)] {
        guard case let .mapping(mapping) = node else {
            throw error("\(path) must be a mapping (key: value lines), not \(kind).")
        }
        return try mapping.map { keyNode, valueNode in
            let key = ConfigNode(node: keyNode, file: file, path: path)
            guard let name = keyNode.scalar?.string, !name.isEmpty else { throw key.error("\(path) has an empty or non-scalar key.") }
            return (name, ConfigNode(node: valueNode, file: file, path: "\(path).\(name)"))
        }
    }

    func string() throws -> String {
        guard case let .scalar(scalar) = node, !(scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)) else {
            throw error("\(path) must be a text value, not \(kind).")
        }
        guard !scalar.string.isEmpty else { throw error("\(path) must not be empty.") }
        return scalar.string
    }

    func int(minimum: Int = 0) throws -> Int {
        guard case let .scalar(scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            throw error("\(path) must be a whole number, not \(describe).")
        }
        guard value >= minimum else { throw error("\(path) must be at least \(minimum), not \(value).") }
        return value
    }

    /// A path; relative paths are taken from the config file's folder, as people expect.
    func path(relativeTo base: String) throws -> String {
        let text = try string()
        if text.hasPrefix("/") { return URL(fileURLWithPath: text).standardizedFileURL.path }
        if text.hasPrefix("~/") { return NSString(string: text).expandingTildeInPath }
        return URL(fileURLWithPath: base).appendingPathComponent(text).standardizedFileURL.path
    }

    private var kind: String {
        switch node {
        case .scalar(let s): return s.string.isEmpty ? "an empty value" : "the value \"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
    private var describe: String { kind }
}
