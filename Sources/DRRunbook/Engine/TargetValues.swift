import DRCore
import Foundation
import Yams

/// What `targets.NAME.FIELD` reads: each target's scalar settings from the config file
/// (`dr.yml`), as the runbook engine sees them. The procedures own the config's full meaning.
public enum TargetValues {
    public static func load(_ path: String) throws -> [String: [String: Value]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DRError.badInput("\(path): cannot read the config. Check --config or DR_CONFIG.")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw DRError.badInput("\(path): the config is not valid YAML: \(error)")
        }
        guard let targets = root?["targets"]?.mapping else { return [:] }
        var out: [String: [String: Value]] = [:]
        for (key, node) in targets {
            guard let name = key.string, let fields = node.mapping else { continue }
            var values: [String: Value] = ["name": .string(name)]
            for (fieldKey, fieldValue) in fields {
                guard let field = fieldKey.string, let scalar = fieldValue.scalar else { continue }
                values[field] = scalar.style == .plain ? (fieldValue.int.map(Value.int) ?? fieldValue.bool.map(Value.bool) ?? .string(scalar.string)) : .string(scalar.string)
            }
            out[name] = values
        }
        return out
    }
}
