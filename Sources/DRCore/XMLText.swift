/// XML text: escaping for element content and attribute values (JUnit reports, Route 53 bodies).
public enum XMLText {
    /// Text made safe for XML attributes and content.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out += "&#\(ch.value);"
            default:
                // XML 1.0 cannot carry other control characters at all.
                if ch.value < 0x20 { out += "?" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
