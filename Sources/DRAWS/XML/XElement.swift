import DRCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML element as a small immutable tree: name without namespace prefix, attributes, child
/// elements and the text directly inside. Enough to read AWS Query and REST-XML responses.
public struct XElement: Sendable, Equatable {
    public var name: String
    public var attributes: [String: String]
    public var children: [XElement]
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [XElement] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XElement? { children.first { $0.name == name } }

    /// Follows a path of child names.
    public func element(_ path: String...) -> XElement? { element(path) }
    public func element(_ path: [String]) -> XElement? {
        var current: XElement? = self
        for name in path { current = current?.child(name) }
        return current
    }

    /// Every child named `name`.
    public func all(_ name: String) -> [XElement] { children.filter { $0.name == name } }

    /// The members of a wrapped list: `<DBInstances><DBInstance/>...</DBInstances>`.
    public func list(_ wrapper: String, _ member: String) -> [XElement] { child(wrapper)?.all(member) ?? [] }

    /// The text of the element at `path`, nil when absent.
    public func string(_ path: String...) -> String? { element(path)?.text }
    public func int(_ path: String...) -> Int? { element(path).flatMap { Int($0.text) } }
    public func double(_ path: String...) -> Double? { element(path).flatMap { Double($0.text) } }
    public func bool(_ path: String...) -> Bool? { element(path).map { $0.text == "true" } }
    public func date(_ path: String...) -> Date? { element(path).flatMap { RFC3339.parse($0.text) } }

    /// The first element named `name` anywhere below (depth first), itself included.
    public func descendant(_ name: String) -> XElement? {
        if self.name == name { return self }
        for c in children { if let found = c.descendant(name) { return found } }
        return nil
    }

    /// Parses a document and returns its root element.
    public static func parse(_ data: Data) throws -> XElement {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw AWSDecodingError("malformed XML (\(parser.parserError.map { "\($0)" } ?? "no root element"))")
        }
        return root
    }

    /// Escapes text for an XML body.
    public static func escape(_ text: String) -> String { XMLText.escape(text) }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XElement] = []
    var root: XElement?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XElement(name: local, attributes: attributeDict))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard var done = stack.popLast() else { return }
        if !done.children.isEmpty { done.text = done.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
    }
}
