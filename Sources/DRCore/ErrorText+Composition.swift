extension ErrorText.Interpolation {
    /// Another error text inside this one, its parameter references kept (`"… (\(source)) …"`
    /// where `source` may be `\(param: .region)` or plain words).
    public mutating func appendInterpolation(_ text: ErrorText) { segments += text.segments }
}

/// Library messages (libpq's, a file parser's) placed inside dr's sentences.
public enum Prose {
    /// `text` as one sentence: line breaks and tabs folded into spaces, ending with exactly one
    /// `.`, `?` or `!` — so `…running?` stays `…running?`, never `…running?.` or `….` + `.`.
    public static func sentence(_ text: String) -> String {
        let folded = text.split(whereSeparator: { $0 == "\n" || $0 == "\t" || $0 == " " }).joined(separator: " ")
        guard let last = folded.last else { return "" }
        return ".?!".contains(last) ? folded : folded + "."
    }
}
