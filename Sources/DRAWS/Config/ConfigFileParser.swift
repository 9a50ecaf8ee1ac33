import Foundation

/// One `[section]` of a shared config or credentials file.
///
/// Keys are lower-cased. A key with an empty value followed by indented `k = v` lines is a
/// sub-section (`s3 =\n  max_concurrent_requests = 20`, or a service under `[services x]`);
/// its lines live in `subsections`, never in `properties`.
public struct ConfigSection: Sendable, Equatable {
    public var properties: [String: String] = [:]
    public var subsections: [String: [String: String]] = [:]

    public init(properties: [String: String] = [:], subsections: [String: [String: String]] = [:]) {
        self.properties = properties
        self.subsections = subsections
    }

    public subscript(key: String) -> String? { properties[key.lowercased()] }

    /// Later values win: used to merge duplicate sections and the credentials file over the config file.
    mutating func merge(_ other: ConfigSection) {
        properties.merge(other.properties) { _, new in new }
        subsections.merge(other.subsections) { old, new in old.merging(new) { _, n in n } }
    }
}

/// A parse error names the file and line, never the line's content (it may hold a secret key).
public struct ConfigFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var problem: String
    public var description: String { "\(path), line \(line): \(problem)" }
}

/// Parses the INI dialect of the AWS shared config and credentials files as the SDKs read it:
/// `[section]` headers, `key = value` properties, full-line comments starting with `#` or `;`,
/// inline comments when `#` or `;` follows whitespace, indented continuation lines, and
/// indented sub-properties under a key with an empty value.
///
/// Section names are returned as written (`profile prod`, `default`, `services local`);
/// `SharedConfigFiles` decides what they mean in each file.
public enum ConfigFileParser {
    public static func parse(_ text: String, path: String) throws -> [(name: String, section: ConfigSection)] {
        var sections: [(name: String, section: ConfigSection)] = []
        var current: ConfigSection?
        var currentName = ""
        // The property that indented lines continue, and whether it opened a sub-section.
        var lastKey: String?
        var lastOpensSubsection = false

        func flush() {
            if let current { sections.append((currentName, current)) }
        }

        // CRLF first: "\r\n" is a single Character in Swift, so splitting on "\n" alone misses it.
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        for (index, rawLine) in normalized.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }

            let indented = line.first == " " || line.first == "\t"
            if indented, current != nil, let key = lastKey {
                let content = stripInlineComment(trimmed)
                if lastOpensSubsection {
                    guard let eq = content.firstIndex(of: "=") else {
                        throw ConfigFileError(path: path, line: lineNumber, problem: "expected 'name = value' in the sub-section '\(key)'")
                    }
                    let subKey = content[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
                    let subValue = content[content.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                    guard !subKey.isEmpty else {
                        throw ConfigFileError(path: path, line: lineNumber, problem: "a sub-property has no name")
                    }
                    current!.subsections[key, default: [:]][subKey] = subValue
                } else {
                    current!.properties[key, default: ""] += "\n" + content
                }
                continue
            }

            if trimmed.hasPrefix("[") {
                let header = stripInlineComment(trimmed)
                guard header.hasSuffix("]") else {
                    throw ConfigFileError(path: path, line: lineNumber, problem: "a section header must end with ']'")
                }
                flush()
                let name = header.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                // Collapse runs of blanks (`[profile   prod]` is `profile prod`).
                currentName = name.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                current = ConfigSection()
                lastKey = nil
                continue
            }

            // Properties before the first section belong to no profile: the SDKs ignore them.
            guard current != nil else { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw ConfigFileError(path: path, line: lineNumber, problem: "expected 'name = value' or a [section] header")
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty else {
                throw ConfigFileError(path: path, line: lineNumber, problem: "a property has no name")
            }
            let value = stripInlineComment(trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces))
            lastKey = key
            lastOpensSubsection = value.isEmpty
            if value.isEmpty {
                current!.subsections[key] = current!.subsections[key] ?? [:]
                current!.properties.removeValue(forKey: key)
            } else {
                current!.properties[key] = value
                current!.subsections.removeValue(forKey: key)
            }
        }
        flush()
        return sections
    }

    /// `value ; comment` and `value # comment` lose the comment; `a#b` keeps its `#`.
    static func stripInlineComment(_ s: String) -> String {
        var previous: Character = " "
        for i in s.indices {
            let c = s[i]
            if (c == "#" || c == ";"), previous == " " || previous == "\t", i != s.startIndex {
                return s[..<i].trimmingCharacters(in: .whitespaces)
            }
            previous = c
        }
        return s
    }
}
