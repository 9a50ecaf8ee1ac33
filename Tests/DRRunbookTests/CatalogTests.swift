import DRCore
import DRRunbook
import DRRunbookEngine
import XCTest

/// The standard catalog and the registry that runs it agree: every procedure a runbook may name
/// has an executor, and nothing is registered that the catalog does not describe.
final class CatalogTests: XCTestCase {
    func testEveryStandardProcedureHasAnExecutor() throws {
        let registry = ProcedureRegistry.standard(providers: TargetProviders(config: nil))
        for name in ProcedureCatalog.standard.names {
            XCTAssertNoThrow(try registry.executor(for: name), name)
        }
        XCTAssertThrowsError(try registry.executor(for: "no.such")) {
            XCTAssertEqual(($0 as? DRError)?.category, .localFailure)
        }
    }
}
