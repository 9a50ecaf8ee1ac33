import Foundation

/// JSON protocol errors: `{"__type": "[namespace#]Code", "message"|"Message": "..."}`, or the code
/// in the `x-amzn-ErrorType` header (`Code:http://...`).
enum JSONErrorEnvelope {
    static func decode(_ response: HTTPResponse) -> ErrorEnvelope? {
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        let raw = (object["__type"] as? String) ?? (object["code"] as? String) ?? response.headers["x-amzn-errortype"]
        guard let raw, !raw.isEmpty else { return nil }
        let afterHash = raw.split(separator: "#").last.map(String.init) ?? raw
        let code = afterHash.split(separator: ":").first.map(String.init) ?? afterHash
        let message = (object["message"] as? String) ?? (object["Message"] as? String) ?? ""
        return ErrorEnvelope(code: code, message: message, requestId: response.headers["x-amzn-requestid"])
    }
}
