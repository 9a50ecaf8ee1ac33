import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

final class ValidatorTests: XCTestCase {
    func problems(_ yaml: String) throws -> [String] {
        Validator(catalog: .standard).diagnostics(try RunbookParser.parse(yaml, file: "rb.yml")).map(\.description)
    }

    func testAValidRunbookHasNoProblems() throws {
        XCTAssertEqual(try problems("""
        name: ok
        inputs:
          when: { type: time }
        steps:
          - id: restore
            uses: restore.point-in-time
            with: { target: prod-db, time: "${{ inputs.when - 5m }}", as: "pitr-${{ run.id }}" }
          - id: verify
            uses: verify
            if: steps.restore.outputs.endpoint_port > 0
            with: { db: "host=${{ steps.restore.outputs.endpoint_host }}" }
        finally:
          - id: teardown
            uses: teardown
            if: steps.restore.outcome == 'success'
            with: { target: prod-db, instance: "${{ steps.restore.outputs.instance_id }}" }
        """), [])
    }

    func testEveryKindOfProblemWithItsPosition() throws {
        let found = try problems("""
        name: bad
        inputs:
          n: { type: int, default: 3 }
        steps:
          - id: a
            uses: snapshotz
          - id: b
            uses: wait
            with:
              duration: ten minutes
              colour: red
          - id: c
            uses: restore.snapshot
            with:
              target: prod-db
              from_dr: ${{ inputs.n }}
              as: ${{ steps.d.outputs.instance_id }}
          - id: d
            uses: status
            with: { target: "${{ steps.b.outputs.nope }}" }
          - id: b
            uses: wait
            if: inputs.n + 1
            with: { until: "${{ inputs.m }}" }
        """)
        XCTAssertEqual(found, [
            "rb.yml:6:11: unknown procedure 'snapshotz'; use one of app.rollback, app.scale, cache.snapshot, copy, exec, failover, http.check, restore.point-in-time, restore.snapshot, snapshot, status, teardown, verify, wait",
            "rb.yml:10:17: 'duration' must be a duration (such as 90s, 5m, 2h, 7d); 'ten minutes' is not",
            "rb.yml:11:7: procedure 'wait' has no parameter 'colour'; its parameters are duration, until",
            "rb.yml:16:16: 'from_dr' must be a bool, but the expression gives a int",
            "rb.yml:17:15: step 'd' runs later; a step can only read the outputs of steps before it",
            "rb.yml:20:26: step 'b' (wait) has no output 'nope'; it declares until",
            "rb.yml:21:5: step id 'b' is already used at line 7; step ids must be unique",
            "rb.yml:23:9: the `if` of step 'b' is a int, not a bool; compare it, e.g. `inputs.x == 'yes'`",
            "rb.yml:24:25: unknown input 'm'; declare it under `inputs:` (declared: n)",
        ])
    }

    func testMissingRequiredParameterAndUnknownStep() throws {
        XCTAssertEqual(try problems("name: x\nsteps:\n  - id: a\n    uses: restore.snapshot\n    with: { target: t, snapshot: \"${{ steps.zz.outputs.snapshot_id }}\" }\n"), [
            "rb.yml:3:5: step 'a' does not give 'as', which restore.snapshot requires (the new server's name (rds: instance id))",
            "rb.yml:5:39: unknown step 'zz'",
        ])
        XCTAssertEqual(try problems("name: x\nsteps:\n  - id: a\n    uses: wait\n    with: { duration: 5 }\n"),
                       ["rb.yml:5:23: 'duration' must be a duration, not a int"])
    }

    func testMissingAndMistypedInputsAtRunTime() throws {
        let runbook = try RunbookParser.parse("name: x\ninputs:\n  when: { type: time }\n  n: { type: int, default: 2 }\nsteps: []\n", file: "rb.yml")
        XCTAssertThrowsError(try InputBinder.bind(runbook, given: [:])) { error in
            XCTAssertEqual((error as? DRError)?.message, "rb.yml: missing required input 'when'; pass --input when=VALUE.")
        }
        XCTAssertThrowsError(try InputBinder.bind(runbook, given: ["when": "noon", "extra": "1"])) { error in
            XCTAssertEqual((error as? DRError)?.message, "rb.yml: unknown input 'extra'; x declares when, n; input 'when' must be a time (RFC 3339, such as 2026-11-20T12:00:00Z); 'noon' is not.")
        }
        XCTAssertEqual(try InputBinder.bind(runbook, given: ["when": "2026-11-20T12:00:00Z"]),
                       ["when": .time(Date(timeIntervalSince1970: 1_795_176_000)), "n": .int(2)])
    }
}

