import DRCore
@testable import DRRunbook
import DRRunbookEngine
import Foundation
import XCTest

/// The runbooks compiled into the binary are runbooks/*.yml byte for byte, and a name resolves
/// to the first file of that name in the search folders, else to the compiled-in copy.
final class RunbookLibraryTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "dr-library-\(UUID().uuidString)"
        for sub in ["cwd/runbooks", "config/runbooks", "prefix/share/dr/runbooks", "state"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + sub, withIntermediateDirectories: true)
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// Fails when Sources/DRRunbook/Library/ShippedRunbooks.swift is out of step with runbooks/*.yml: run `make runbooks`.
    func testShippedRunbooksAreTheFilesInRunbooks() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.repo + "/runbooks").filter { $0.hasSuffix(".yml") }.sorted()
        XCTAssertEqual(ShippedRunbooks.all.map { $0.name + ".yml" }, files, "run make runbooks")
        for file in files {
            let text = try String(contentsOfFile: Self.repo + "/runbooks/" + file, encoding: .utf8)
            XCTAssertEqual(ShippedRunbooks.all.first { $0.name + ".yml" == file }?.text, text, "\(file) changed: run make runbooks")
        }
        let check = try SystemProcessRunner.runBlocking("python3", [Self.repo + "/scripts/generate-shipped-runbooks.py", "--check"])
        XCTAssertEqual(check.status, 0, check.stderr)
        for shipped in ShippedRunbooks.all {
            XCTAssertNoThrow(try Validator(catalog: .standard).validate(try RunbookParser.parse(shipped.text, file: shipped.name)))
        }
    }

    func library(cwd: String? = nil) -> RunbookLibrary {
        RunbookLibrary.standard(workingDirectory: cwd ?? folder + "/cwd", configFile: folder + "/config/dr.yml",
                                state: StateDirectory(root: folder + "/state"), executable: folder + "/prefix/bin/dr")
    }

    func put(_ dir: String, _ name: String, description: String) throws -> String {
        let shipped = ShippedRunbooks.all.first { $0.name == name }!.text
        let path = folder + "/" + dir + "/" + name + ".yml"
        try shipped.replacingOccurrences(of: "\ndescription: ", with: "\ndescription: \(description) ").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testAFileOnDiskWinsInSearchOrderElseTheBuiltInOne() throws {
        let lib = library()
        XCTAssertEqual(lib.folders, [folder + "/cwd/runbooks", folder + "/config/runbooks", folder + "/prefix/share/dr/runbooks"])
        XCTAssertEqual(try lib.source(of: "weekly-snapshot"), .shipped(ShippedRunbooks.all.first { $0.name == "weekly-snapshot" }!))
        let installed = try put("prefix/share/dr/runbooks", "weekly-snapshot", description: "installed")
        XCTAssertEqual(try lib.source(of: "weekly-snapshot"), .file(installed))
        let besideConfig = try put("config/runbooks", "weekly-snapshot", description: "beside")
        XCTAssertEqual(try lib.source(of: "weekly-snapshot.yml"), .file(besideConfig))
        let here = try put("cwd/runbooks", "weekly-snapshot", description: "here")
        XCTAssertEqual(try lib.path(for: "weekly-snapshot"), here)
        let entry = try XCTUnwrap(lib.list().first { $0.name == "weekly-snapshot" })
        XCTAssertEqual(entry.file, here)
        XCTAssertFalse(entry.builtIn)
        XCTAssertEqual(entry.shadows, [besideConfig, installed, "built into dr"])
        XCTAssertTrue(entry.description?.hasPrefix("here ") == true)
        XCTAssertEqual(lib.list().map(\.name), ShippedRunbooks.all.map(\.name))
        // A path is a path, whatever the library holds.
        XCTAssertEqual(try lib.path(for: "./x/weekly-snapshot.yml"), "./x/weekly-snapshot.yml")
    }

    func testABuiltInRunbookRunsFromOneCopyInTheStateDirectory() throws {
        let lib = library()
        let path = try lib.path(for: "restore-drill")
        XCTAssertTrue(path.hasPrefix(folder + "/state/runbooks/restore-drill-"), path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), ShippedRunbooks.all.first { $0.name == "restore-drill" }!.text)
        XCTAssertEqual(try lib.path(for: "restore-drill"), path, "the same copy again")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/state/runbooks").count, 1)
    }

    func testNotFoundListsEachPlaceOnce() throws {
        // The working directory is the config's folder: its runbooks/ is searched (and named) once.
        let lib = library(cwd: folder + "/config")
        XCTAssertEqual(lib.folders.count, 2)
        do {
            _ = try lib.path(for: "nightly")
            XCTFail("found nothing")
        } catch let error as DRError {
            XCTAssertEqual(error.code, .notFound)
            XCTAssertEqual(error.exitStatus, .badInput)
            let places = [folder + "/config/runbooks/nightly.yml", folder + "/prefix/share/dr/runbooks/nightly.yml"]
            for place in places { XCTAssertEqual(error.message.components(separatedBy: place).count - 1, 1, error.message) }
            XCTAssertTrue(error.message.contains("built in: app-rollback, point-in-time-restore, region-failover, restore-drill, weekly-snapshot"), error.message)
            XCTAssertFalse(error.message.contains("--"), "no CLI flag in a library message: \(error.message)")
        }
    }
}
