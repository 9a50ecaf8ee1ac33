@testable import DRRunbookEngine
import DRRunbook
import Foundation
import XCTest

/// runbooks/schema.json (for editors) and the parser must agree on every field name.
final class SchemaTests: XCTestCase {
    func testSchemaAndModelAgree() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("runbooks/schema.json"))
        let schema = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        func keys(_ object: Any?) -> Set<String> { Set(((object as? [String: Any])?["properties"] as? [String: Any])?.keys.map { $0 } ?? []) }
        XCTAssertEqual(keys(schema), Set(RunbookParser.topLevelFields))
        let properties = schema["properties"] as! [String: Any]
        let input = (properties["inputs"] as! [String: Any])["additionalProperties"]
        XCTAssertEqual(keys(input), Set(RunbookParser.inputFields))
        let step = (schema["$defs"] as! [String: Any])["step"] as! [String: Any]
        XCTAssertEqual(keys(step), Set(RunbookParser.stepFields))
        let uses = (step["properties"] as! [String: Any])["uses"] as! [String: Any]
        XCTAssertEqual(Set(uses["enum"] as! [String]), Set(ProcedureCatalog.standard.names))
        let types = ((input as! [String: Any])["properties"] as! [String: Any])["type"] as! [String: Any]
        XCTAssertEqual(Set(types["enum"] as! [String]), Set(ValueType.allCases.map(\.rawValue)))
    }
}
