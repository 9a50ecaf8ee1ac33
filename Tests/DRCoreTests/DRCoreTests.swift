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

    /// Issue 11 item 2: Foundation alone moves 2026-11-31 to 2026-12-01.
    func testImpossibleDatesAndOutOfRangeFieldsAreRefusedNotMoved() {
        for bad in ["2026-11-31T17:50:37Z", "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                    "2026-00-10T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T12:60:00Z", "2026-11-20T12:00:60Z",
                    "2026-11-20T12:00:00+25:00", "2026-11-20T12:00:00+01:60", "2026-11-20", "2026-11-20T12:00Z", "2026-11-20T12:00:00+0100"] {
            XCTAssertNil(RFC3339.parse(bad), bad)
        }
        XCTAssertNotNil(RFC3339.parse("2028-02-29T00:00:00Z"), "a leap day")
        XCTAssertNotNil(RFC3339.parse("2000-02-29T23:59:59.999999Z"))
        XCTAssertNil(RFC3339.parse("1900-02-29T00:00:00Z"), "1900 was not a leap year")
        XCTAssertEqual(RFC3339.parse("2026-12-31t23:59:59z"), RFC3339.parse("2026-12-31T23:59:59Z"))
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
