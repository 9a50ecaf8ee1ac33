import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

final class ExpressionTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_795_176_000) // 2026-11-20T12:00:00Z
    var scope: RunScope {
        RunScope(inputs: ["region": .string("us-west-2"), "n": .int(3), "when": .time(start), "keep": .bool(true)],
                 targets: ["prod-db": ["region": .string("eu-west-1")]],
                 outputs: ["restore": ["endpoint_port": .int(5432), "endpoint_host": .string("db.local")]],
                 outcomes: ["restore": "success"], runID: "r1", startedAt: start, now: start.addingTimeInterval(600))
    }

    func eval(_ text: String) throws -> Value { try Evaluator.evaluate(try ExpressionParser.parse(text), in: scope) }

    func errorOffset(_ text: String) -> (Int, String)? {
        do { _ = try eval(text); return nil } catch let e as ExpressionError { return (e.offset, e.message) } catch { return nil }
    }

    func testStringOrGivesTheFirstNonEmptyAndReadsTheRightOnlyWhenNeeded() throws {
        XCTAssertEqual(try eval("inputs.region || 'x'"), .string("us-west-2"))
        XCTAssertEqual(try eval("'' || steps.restore.outputs.endpoint_host"), .string("db.local"))
        // The right side names a step with no outputs: not read when the left is not empty.
        XCTAssertEqual(try eval("inputs.region || steps.never.outputs.x"), .string("us-west-2"))
        XCTAssertNotNil(errorOffset("'' || steps.never.outputs.x"))
        XCTAssertNotNil(errorOffset("'' || inputs.n"), "string || int is a type error")
    }

    func testReferences() throws {
        XCTAssertEqual(try eval("inputs.region"), .string("us-west-2"))
        XCTAssertEqual(try eval("targets.prod-db.region"), .string("eu-west-1"))
        XCTAssertEqual(try eval("targets['prod-db'].region"), .string("eu-west-1"))
        XCTAssertEqual(try eval("steps.restore.outputs.endpoint_port"), .int(5432))
        XCTAssertEqual(try eval("steps.restore.outcome"), .string("success"))
        XCTAssertEqual(try eval("run.id"), .string("r1"))
        XCTAssertEqual(try eval("run.started_at"), .time(start))
        XCTAssertEqual(try eval("now"), .time(start.addingTimeInterval(600)))
    }

    func testTimeArithmetic() throws {
        XCTAssertEqual(try eval("now - 5m"), .time(start.addingTimeInterval(300)))
        XCTAssertEqual(try eval("run.started_at + 1h"), .time(start.addingTimeInterval(3600)))
        XCTAssertEqual(try eval("7d + inputs.when"), .time(start.addingTimeInterval(604_800)))
        XCTAssertEqual(try eval("now - run.started_at"), .duration(600))
        XCTAssertEqual(try eval("1h30m - 30m"), .duration(3600))
        XCTAssertEqual(try eval("inputs.n + 2 - 1"), .int(4))
        XCTAssertEqual(try eval("now - 5m").description, "2026-11-20T12:05:00Z")
    }

    func testComparisonsAndBooleans() throws {
        XCTAssertEqual(try eval("inputs.n >= 3 && inputs.region == 'us-west-2'"), .bool(true))
        XCTAssertEqual(try eval("!inputs.keep || now < run.started_at"), .bool(false))
        XCTAssertEqual(try eval("(inputs.n < 2) != false"), .bool(false))
        XCTAssertEqual(try eval("now - run.started_at > 5m"), .bool(true))
        XCTAssertEqual(try eval("\"it''s\" == 'x'"), .bool(false))
        // && stops early, so the right side may name a step that has not run.
        XCTAssertEqual(try eval("false && steps.none.outputs.x == 1"), .bool(false))
    }

    func testErrorsPointAtTheColumn() {
        XCTAssertEqual(errorOffset("now + 5")?.0, 4)
        XCTAssertEqual(errorOffset("now + 5")?.1, "cannot compute time + int (time ± duration, time - time, duration ± duration and int ± int are allowed)")
        XCTAssertEqual(errorOffset("inputs.nope")?.0, 0)
        XCTAssertEqual(errorOffset("inputs.n == 'a'")?.0, 9)
        XCTAssertEqual(errorOffset("1 + 1.5h")?.0, 4)
        XCTAssertEqual(errorOffset("inputs.n ? 1")?.1, "unexpected character '?'")
        XCTAssertEqual(errorOffset("(1 + 2")?.0, 6)
        XCTAssertEqual(errorOffset("steps.later.outputs.x")?.1, "step 'later' has no outputs: it has not run")
        XCTAssertEqual(errorOffset("run.owner")?.1.hasPrefix("'run.owner' names nothing"), true)
        XCTAssertEqual(errorOffset("9223372036854775807 + 1")?.1, "9223372036854775807 + 1 overflows")
    }

    func testTemplatesInterpolateAndKeepTypes() throws {
        let here = SourceLocation(file: "f", line: 3, column: 10)
        let typed = try Template("${{ now - 5m }}", location: here)
        XCTAssertEqual(try typed.evaluate(in: scope), .time(start.addingTimeInterval(300)))
        let text = try Template("db-${{ inputs.region }}-${{ inputs.n + 1 }}", location: here)
        XCTAssertEqual(try text.evaluate(in: scope), .string("db-us-west-2-4"))
        XCTAssertTrue(try Template("plain", location: here).isLiteral)
        do {
            _ = try Template("x ${{ now + 5 }}", location: here).evaluate(in: scope)
            XCTFail("expected an error")
        } catch let error as ExpressionError {
            XCTAssertEqual(error.offset, 10)
            XCTAssertEqual(try Template("x ${{ now + 5 }}", location: here).diagnostic(error).location.column, 20)
        }
        XCTAssertThrowsError(try Template.condition("x ${{ true }}", location: here))
        XCTAssertEqual(try Template.condition("inputs.n == 3", location: here).evaluate(in: scope), .bool(true))
    }

    func testValuesRoundTripThroughJSON() throws {
        let values: [String: Value] = ["s": .string("a"), "i": .int(3), "b": .bool(true), "t": .time(start), "d": .duration(90)]
        let data = try JSONEncoder().encode(values)
        XCTAssertEqual(try JSONDecoder().decode([String: Value].self, from: data), values)
        XCTAssertEqual(Value.duration(5400).description, "1h30m")
    }
}
