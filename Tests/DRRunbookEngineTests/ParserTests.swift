import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

/// Parses `yaml` expecting bad input; returns its message.
func parseError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try RunbookParser.parse(yaml, file: "rb.yml")
        XCTFail("expected bad input", file: file, line: line)
        return ""
    } catch let error as DRError {
        XCTAssertEqual(error.category, .badInput, file: file, line: line)
        return error.message
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
        return ""
    }
}

final class ParserTests: XCTestCase {
    func testParsesEveryField() throws {
        let runbook = try RunbookParser.parse("""
        name: drill
        description: restore and verify
        inputs:
          when:
            type: time
            description: restore point
          keep:
            type: bool
            default: false
        steps:
          - id: restore
            uses: restore.point-in-time
            with:
              target: prod-db
              time: ${{ inputs.when }}
              as: drill-db
            timeout: 45m
            retries: 2
            phase: restore
          - id: pause
            uses: wait
            if: inputs.keep == false
            continue_on_error: true
            timeout: 90
            with: { duration: 5m }
        finally:
          - id: teardown
            uses: teardown
            with:
              instance: ${{ steps.restore.outputs.instance_id }}
        """, file: "rb.yml")
        XCTAssertEqual(runbook.name, "drill")
        XCTAssertEqual(runbook.inputs.map(\.name), ["when", "keep"])
        XCTAssertEqual(runbook.inputs[0].type, .time)
        XCTAssertTrue(runbook.inputs[0].required)
        XCTAssertEqual(runbook.inputs[1].defaultValue, .bool(false))
        XCTAssertFalse(runbook.inputs[1].required)
        XCTAssertEqual(runbook.steps.map(\.id), ["restore", "pause"])
        XCTAssertEqual(runbook.steps[0].timeout, 2700)
        XCTAssertEqual(runbook.steps[0].retries, 2)
        XCTAssertEqual(runbook.steps[0].phase, "restore")
        XCTAssertEqual(runbook.steps[1].timeout, 90)
        XCTAssertTrue(runbook.steps[1].continueOnError)
        XCTAssertNotNil(runbook.steps[1].condition?.singleExpression)
        XCTAssertEqual(runbook.finally.map(\.id), ["teardown"])
        XCTAssertEqual(runbook.steps[0].location, SourceLocation(file: "rb.yml", line: 11, column: 5))
        // `time: ${{ inputs.when }}` — the value starts at column 13 of line 15.
        XCTAssertEqual(runbook.steps[0].parameter("time")?.value.location, SourceLocation(file: "rb.yml", line: 15, column: 13))
    }

    func testUnknownFieldsAreRejectedWithTheirPosition() {
        XCTAssertEqual(parseError("name: a\nstep: []\nsteps: []\n"),
                       "rb.yml:2:1: unknown field 'step' in a runbook; the fields are name, description, inputs, steps, finally")
        let message = parseError("name: a\nsteps:\n  - id: x\n    uses: wait\n    timeoutt: 5m\n")
        XCTAssertTrue(message.hasPrefix("rb.yml:5:5: unknown field 'timeoutt' in a step"), message)
        XCTAssertTrue(parseError("name: a\ninputs:\n  x:\n    kind: int\nsteps: []\n").hasPrefix("rb.yml:4:5: unknown field 'kind' in input 'x'"))
    }

    func testMalformedYAMLPointsAtTheProblem() {
        let message = parseError("name: a\nsteps:\n  - id: x\n   uses: [wait\n")
        XCTAssertTrue(message.hasPrefix("rb.yml:4:"), message)
        XCTAssertTrue(message.contains("malformed YAML"), message)
    }

    func testTypeErrorsAndMissingFields() {
        XCTAssertEqual(parseError("name: a\nsteps:\n  - id: x\n    uses: wait\n    retries: many\n"),
                       "rb.yml:5:14: retries must be a whole number")
        XCTAssertEqual(parseError("name: a\nsteps:\n  - id: x\n    uses: wait\n    timeout: soon\n"),
                       "rb.yml:5:14: timeout 'soon' is not a duration; write it as 90s, 10m, 2h or 1h30m")
        XCTAssertEqual(parseError("name: a\nsteps:\n  - id: x\n    uses: wait\n    continue_on_error: maybe\n"),
                       "rb.yml:5:24: continue_on_error must be true or false")
        XCTAssertEqual(parseError("name: a\nsteps:\n  - uses: wait\n"),
                       "rb.yml:3:5: the step has no `id`; give it a unique name such as `id: restore`")
        XCTAssertEqual(parseError("name: a\ninputs:\n  n:\n    type: int\n    default: ten\nsteps: []\n"),
                       "rb.yml:5:14: the default of input 'n' is not a int")
        XCTAssertTrue(parseError("name: a\ninputs:\n  n:\n    type: float\nsteps: []\n").hasPrefix("rb.yml:4:11: input 'n' has an unknown type"))
        XCTAssertTrue(parseError("description: x\n").contains("rb.yml:1:1: the runbook has no `name`"))
    }

    func testExpressionSyntaxErrorPointsInsideTheValue() {
        // `      command: echo ${{ inputs. }}` — the error is at the '}' after 'inputs.'.
        let message = parseError("name: a\nsteps:\n  - id: x\n    uses: exec\n    with:\n      command: echo ${{ inputs. }}\n")
        XCTAssertEqual(message, "rb.yml:6:33: expected a name after '.', found the end of the expression")
        XCTAssertEqual(parseError("name: a\nsteps:\n  - id: x\n    uses: exec\n    with:\n      command: \"a ${{ 'open\"\n"),
                       "rb.yml:6:19: '${{' is not closed: end the expression with '}}'")
    }
}
