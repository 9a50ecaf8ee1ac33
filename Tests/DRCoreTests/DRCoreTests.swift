import DRCore
import XCTest

final class RFC3339Tests: XCTestCase {
    func testParsesZuluAndOffsets() throws {
        XCTAssertEqual(RFC3339.parse("2026-11-20T12:00:00Z")?.timeIntervalSince1970, 1_795_176_000)
        XCTAssertEqual(RFC3339.parse("2026-11-20T13:00:00+01:00")?.timeIntervalSince1970, 1_795_176_000)
        XCTAssertEqual(RFC3339.parse("2026-11-20T12:00:00.250Z")?.timeIntervalSince1970, 1_795_176_000.25)
        XCTAssertNil(RFC3339.parse("2026-11-20T12:00:00"), "a time without a zone is ambiguous")
        XCTAssertNil(RFC3339.parse("yesterday"))
    }

    func testFormatsUTC() {
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: 1_795_176_000)), "2026-11-20T12:00:00Z")
    }
}

final class DurationTextTests: XCTestCase {
    func testParse() {
        XCTAssertEqual(DurationText.parse("90s"), 90)
        XCTAssertEqual(DurationText.parse("1h30m"), 5400)
        XCTAssertEqual(DurationText.parse("7d"), 604_800)
        XCTAssertNil(DurationText.parse("5"))
        XCTAssertNil(DurationText.parse("5x"))
        XCTAssertNil(DurationText.parse(""))
    }

    func testFormat() {
        XCTAssertEqual(DurationText.format(0.25), "250ms")
        XCTAssertEqual(DurationText.format(4.25), "4.2s")
        XCTAssertEqual(DurationText.format(252), "4m12s")
        XCTAssertEqual(DurationText.format(3780), "1h03m")
    }
}

final class RedactTests: XCTestCase {
    func testConninfoKeywordForm() {
        XCTAssertEqual(Redact.conninfo("host=h password=s3cret user=u"), "host=h password=******** user=u")
        XCTAssertEqual(Redact.conninfo("host=h password = 'a b\\' c' user=u"), "host=h password =******** user=u")
        XCTAssertEqual(Redact.conninfo("host=h user=u"), "host=h user=u")
    }

    func testConninfoURIForm() {
        XCTAssertEqual(Redact.conninfo("postgresql://u:s3cret@h:5432/db"), "postgresql://u:********@h:5432/db")
        XCTAssertEqual(Redact.conninfo("postgresql://u@h/db?password=s3cret&sslmode=require"),
                       "postgresql://u@h/db?password=********&sslmode=require")
    }
}

final class ExitStatusTests: XCTestCase {
    func testCategoriesMapToTheContractsExitCodes() {
        XCTAssertEqual(DRError.badInput("x").exitStatus.rawValue, 2)
        XCTAssertEqual(DRError.problem("x").exitStatus.rawValue, 1)
        XCTAssertEqual(DRError.remote("x").exitStatus.rawValue, 3)
        XCTAssertEqual(DRError.timedOut("x").exitStatus.rawValue, 4)
        XCTAssertEqual(DRError.interrupted.exitStatus.rawValue, 130)
    }
}

final class XMLTextTests: XCTestCase {
    func testEscapesMarkupQuotesAndControlCharacters() {
        XCTAssertEqual(XMLText.escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;")
        XCTAssertEqual(XMLText.escape("line 1\nline\t2"), "line 1&#10;line&#9;2")
        XCTAssertEqual(XMLText.escape("bell\u{07}"), "bell?", "XML 1.0 cannot carry other control characters")
        XCTAssertEqual(XMLText.escape("naïve ✓"), "naïve ✓")
    }
}
