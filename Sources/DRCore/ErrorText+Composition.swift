extension ErrorText.Interpolation {
    /// Another error text inside this one, its parameter references kept (`"… (\(source)) …"`
    /// where `source` may be `\(param: .region)` or plain words).
    public mutating func appendInterpolation(_ text: ErrorText) { segments += text.segments }
}
