import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

/// Connection strings reach runbooks as ordinary strings (a drill's `verify_db` input, a verify
/// step's `db`); their passwords must not reach journals, plans or reports.
final class SecretDisplayTests: XCTestCase {
    func testStepParametersMaskConninfoPasswords() {
        let call = ResolvedCall(stepID: "verify", procedure: "verify",
                                parameters: ["db": .string("host=h dbname=app password=hunter2"),
                                             "manifest": .string("m.json"),
                                             "token": .string("abc")],
                                secretParameters: ["token"])
        XCTAssertEqual(call.displayParameters["db"], "host=h dbname=app password=********")
        XCTAssertEqual(call.displayParameters["manifest"], "m.json")
        XCTAssertEqual(call.displayParameters["token"], Redact.mask)
    }

    func testInputsMaskConninfoPasswordsWhetherOrNotDeclaredSecret() {
        let shown = InputBinder.masked(["verify_db": .string("postgresql://dr:hunter2@h/app"), "name": .string("drill-1"),
                                        "key": .string("k"), "count": .int(3)], secret: ["key"])
        XCTAssertEqual(shown["verify_db"], .string("postgresql://dr:********@h/app"))
        XCTAssertEqual(shown["name"], .string("drill-1"))
        XCTAssertEqual(shown["key"], .string(Redact.mask))
        XCTAssertEqual(shown["count"], .int(3))
    }
}
