@testable import DRCore
import Foundation
import XCTest

/// Masking by value, in every encoding that can reach output (issue 11 item 8). The expected
/// forms are made here with Foundation's own encoders, not with `Redact`'s.
final class RedactRegistryTests: XCTestCase {
    static let token = "FQoGZXIvYXdzE/aB+cD=eF/gH+ij==kL"

    func forms(_ secret: String) throws -> [String: String] {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        let once = try XCTUnwrap(secret.addingPercentEncoding(withAllowedCharacters: unreserved))
        let twice = try XCTUnwrap(once.addingPercentEncoding(withAllowedCharacters: unreserved))
        let json = String(decoding: try JSONEncoder().encode([secret]), as: UTF8.self).dropFirst(2).dropLast(2)
        var lowerHex = ""
        var rest = Substring(once)
        while let percent = rest.firstIndex(of: "%") {
            lowerHex += rest[..<percent] + rest[percent...].prefix(3).lowercased()
            rest = rest[rest.index(percent, offsetBy: 3)...]
        }
        lowerHex += rest
        return ["raw": secret, "url-encoded": once, "url-encoded, lower-case hex": lowerHex, "url-encoded twice": twice,
                "json-escaped": String(json), "base64": Data(secret.utf8).base64EncodedString(),
                "url-safe base64": Data(secret.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")]
    }

    func testEveryEncodingOfARegisteredSecretIsMasked() throws {
        Redact.register(Self.token)
        for (name, form) in try forms(Self.token) {
            let text = "before \(form) after"
            let masked = Redact.secrets(in: text)
            XCTAssertFalse(masked.contains(form), "\(name) not masked: \(masked)")
            XCTAssertTrue(masked.contains(Redact.mask), "\(name): \(masked)")
            XCTAssertTrue(masked.hasPrefix("before ") && masked.hasSuffix(" after"), masked)
        }
        // A presigned URL inside a form body: the token encoded twice, among other parameters.
        let url = "https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&X-Amz-Security-Token="
            + Self.token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&X-Amz-Signature=abc"
        let body = "PreSignedUrl=" + url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        XCTAssertFalse(Redact.secrets(in: body).contains("aB%252BcD%253DeF%252FgH"), Redact.secrets(in: body))
    }

    func testBase64OfATextThatContainsTheSecretIsMaskedAtEveryOffset() throws {
        Redact.register(Self.token)
        for prefix in ["", "a", "ab", "abc", "{\"token\":\""] {
            let blob = Data((prefix + Self.token + "\"}").utf8).base64EncodedString()
            let masked = Redact.secrets(in: blob)
            XCTAssertTrue(masked.contains(Redact.mask), "offset \(prefix.count): \(blob)")
            // What is left cannot be decoded back to the token.
            XCTAssertLessThan(masked.count, blob.count, prefix)
        }
    }

    func testShortValuesAreNotMaskedByValueAndConninfoPasswordsAre() {
        Redact.register("abc")
        XCTAssertEqual(Redact.secrets(in: "abc abcd"), "abc abcd")
        Redact.registerPassword(inConninfo: "host=db user=app password='s3cr\\'et-Pa55' dbname=x")
        XCTAssertEqual(Redact.secrets(in: "libpq said: s3cr'et-Pa55"), "libpq said: \(Redact.mask)")
        XCTAssertEqual(Redact.password(inConninfo: "postgresql://app:p%40ss-word-1@db/app"), "p@ss-word-1")
        XCTAssertEqual(Redact.password(inConninfo: "postgresql://db/app?user=x&password=qwerty-123"), "qwerty-123")
        XCTAssertNil(Redact.password(inConninfo: "host=db user=app"))
        XCTAssertEqual(Redact.conninfo("host=db password=x user=y"), "host=db password=\(Redact.mask) user=y")
    }

    func testEncodingsAreDistinctAndLongestFirst() {
        let all = Redact.encodings(of: Self.token)
        XCTAssertEqual(Set(all).count, all.count)
        XCTAssertEqual(all, all.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 })
        XCTAssertTrue(all.contains(Self.token))
        XCTAssertTrue(all.contains("FQoGZXIvYXdzE\\/aB+cD=eF\\/gH+ij==kL"), "JSON with escaped slashes")
        XCTAssertTrue(all.contains("FQoGZXIvYXdzE%2FaB%2BcD%3DeF%2FgH%2Bij%3D%3DkL"))
        XCTAssertTrue(all.contains("FQoGZXIvYXdzE%252FaB%252BcD%253DeF%252FgH%252Bij%253D%253DkL"))
    }
}
