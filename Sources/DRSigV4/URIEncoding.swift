import Foundation

/// The percent-encoding SigV4 asks for: every byte except the unreserved characters
/// `A-Z a-z 0-9 - _ . ~` becomes `%XX` (upper-case hex). Slashes are kept only where asked.
public enum URIEncoding {
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Decodes `%XX` escapes (a `+` stays a `+`: SigV4 treats it as a literal).
    public static func decode(_ text: String) -> String {
        text.removingPercentEncoding ?? text
    }

    /// An `application/x-www-form-urlencoded` body (AWS Query): as `encode`, but a space becomes `+`,
    /// as the SDKs send it (and as moto, which re-encodes the parsed form to check signatures, expects).
    public static func formBody(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0).replacingOccurrences(of: "%20", with: "+"))=\(encode($0.1).replacingOccurrences(of: "%20", with: "+"))" }
            .joined(separator: "&")
    }

    /// `a=1&b=2` from ordered pairs, each side encoded (URL query strings).
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
