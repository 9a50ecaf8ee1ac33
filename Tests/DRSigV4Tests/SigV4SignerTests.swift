import DRSigV4
import Foundation
import XCTest

/// The published AWS SigV4 test suite (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1,
/// service "service"): exact canonical request, string to sign and Authorization header.
final class SigV4SignerTests: XCTestCase {
    let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
    let suite = SigV4Signer(credentials: SigV4Credentials(accessKeyId: "AKIDEXAMPLE",
                                                          secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                            region: "us-east-1", service: "service")

    func testGetVanilla() {
        let signed = suite.sign(method: "GET", url: URL(string: "https://example.amazonaws.com/")!,
                                headers: [("Host", "example.amazonaws.com")], date: date)
        XCTAssertEqual(signed.trace.canonicalRequest, """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(signed.trace.stringToSign, """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        XCTAssertEqual(signed.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(signed.headers.first { $0.name == "X-Amz-Date" }?.value, "20150830T123600Z")
    }

    func testGetVanillaQueryOrderKeyCase() {
        let signed = suite.sign(method: "GET", url: URL(string: "https://example.amazonaws.com/?Param2=value2&Param1=value1")!, date: date)
        XCTAssertEqual(signed.trace.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2], "Param1=value1&Param2=value2")
        XCTAssertEqual(signed.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    func testPostVanilla() {
        let signed = suite.sign(method: "POST", url: URL(string: "https://example.amazonaws.com/")!, date: date)
        XCTAssertTrue(signed.authorization.hasSuffix("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
    }

    func testPostXWWWFormURLEncoded() {
        let signed = suite.sign(method: "POST", url: URL(string: "https://example.amazonaws.com/")!,
                                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                body: Data("Param1=value1".utf8), date: date)
        XCTAssertEqual(signed.trace.canonicalRequest, """
            POST
            /

            content-type:application/x-www-form-urlencoded
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            """)
        XCTAssertEqual(signed.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    func testGetVanillaWithSessionToken() {
        var signer = suite
        signer.credentials.sessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        let signed = signer.sign(method: "GET", url: URL(string: "https://example.amazonaws.com/")!, date: date)
        XCTAssertEqual(signed.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
        XCTAssertEqual(signed.headers.first { $0.name == "X-Amz-Security-Token" }?.value, signer.credentials.sessionToken)
    }

    func testContentSHA256HeaderIsSignedWhenAsked() {
        let signed = suite.sign(method: "POST", url: URL(string: "https://example.amazonaws.com/")!,
                                body: Data("Param1=value1".utf8), date: date, contentSHA256Header: true)
        XCTAssertEqual(signed.trace.signedHeaders, "host;x-amz-content-sha256;x-amz-date")
        XCTAssertEqual(signed.headers.first { $0.name == "x-amz-content-sha256" }?.value,
                       "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
    }

    func testHostHeaderCarriesANonDefaultPortAndQueryValuesAreReencoded() {
        let signed = suite.sign(method: "GET", url: URL(string: "http://127.0.0.1:5000/2013-04-01/hostedzone?name=a%20b.example.com.&x=%2F")!, date: date)
        let lines = signed.trace.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines[1], "/2013-04-01/hostedzone")
        XCTAssertEqual(lines[2], "name=a%20b.example.com.&x=%2F")
        XCTAssertEqual(lines[3], "host:127.0.0.1:5000")
    }

    func testSecretNeverInDescription() {
        XCTAssertFalse(suite.credentials.description.contains("wJalr"))
    }

    /// The published S3 presigned-URL example (GET /test.txt, 2013-05-24, expires 86400).
    func testPresignedURLVector() {
        let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                                               secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: "s3", doubleEncodePath: false)
        let presigned = signer.presign(url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!,
                                       expires: 86400, date: Date(timeIntervalSince1970: 1_369_353_600))
        XCTAssertEqual(presigned.trace.canonicalRequest, """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
        XCTAssertEqual(presigned.trace.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        XCTAssertEqual(presigned.url.absoluteString, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// An RDS-style presigned URL keeps the request's own parameters and signs the token.
    func testPresignKeepsOperationParametersAndToken() {
        var signer = suite
        signer.credentials.sessionToken = "TOKEN/with+chars"
        let presigned = signer.presign(url: URL(string: "https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&Version=2014-10-31")!,
                                       expires: 3600, date: date)
        let query = presigned.url.query ?? ""
        XCTAssertTrue(query.hasPrefix("Action=CopyDBSnapshot&Version=2014-10-31&X-Amz-Algorithm=AWS4-HMAC-SHA256"), query)
        XCTAssertTrue(query.contains("X-Amz-Security-Token=TOKEN%2Fwith%2Bchars"), query)
        XCTAssertTrue(query.hasSuffix("&X-Amz-Signature=\(presigned.trace.signature)"))
    }
}
