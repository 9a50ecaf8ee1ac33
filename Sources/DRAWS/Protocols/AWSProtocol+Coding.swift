import DRSigV4
import Foundation

extension AWSProtocol {
    /// Builds the unsigned HTTP request for one call. The one place requests are encoded.
    func encode(_ request: AWSRequest, service: AWSService, endpoint: URL) throws -> HTTPRequest {
        switch (self, request.input) {
        case (.query, .query(let params)), (.ec2, .query(let params)):
            let pairs = [("Action", request.operation), ("Version", service.apiVersion)] + params
            return HTTPRequest(method: "POST", url: Self.url(endpoint, path: "/", query: []),
                               headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                               body: Data(URIEncoding.formBody(pairs).utf8))
        case (.restXML, .rest(let method, let path, let query, let body)):
            var headers: [(name: String, value: String)] = []
            if body != nil { headers.append(("Content-Type", "application/xml")) }
            return HTTPRequest(method: method, url: Self.url(endpoint, path: path, query: query),
                               headers: headers, body: body ?? Data())
        case (.json(let version, let targetPrefix), .json(let body)):
            return HTTPRequest(method: "POST", url: Self.url(endpoint, path: "/", query: []),
                               headers: [("Content-Type", "application/x-amz-json-\(version)"),
                                         ("X-Amz-Target", "\(targetPrefix).\(request.operation)")],
                               body: body)
        default:
            throw TransportError(.invalidRequest, "\(service.serviceID) \(request.operation): input does not match the \(self) protocol")
        }
    }

    /// Decodes a 2xx response. The one place success bodies are decoded.
    func decodeSuccess(_ response: HTTPResponse, operation: String) throws -> AWSResponse {
        switch self {
        case .query:
            let root = try XElement.parse(response.body)
            let result = root.child("\(operation)Result")
            let requestId = root.string("ResponseMetadata", "RequestId") ?? response.headers["x-amzn-requestid"]
            return AWSResponse(http: response, payload: .xml(result ?? XElement(name: "\(operation)Result")), requestId: requestId)
        case .restXML:
            let root = response.body.isEmpty ? nil : try XElement.parse(response.body)
            return AWSResponse(http: response, payload: .xml(root), requestId: response.headers["x-amzn-requestid"])
        case .ec2:
            let root = try XElement.parse(response.body)
            return AWSResponse(http: response, payload: .xml(root), requestId: root.string("requestId"))
        case .json:
            return AWSResponse(http: response, payload: .json(response.body), requestId: response.headers["x-amzn-requestid"])
        }
    }

    /// Decodes an error response through the protocol's envelope. The one place errors are decoded.
    func decodeError(_ response: HTTPResponse) -> ErrorEnvelope {
        let envelope: ErrorEnvelope?
        switch self {
        case .query, .ec2: envelope = QueryErrorEnvelope.decode(response)
        case .restXML: envelope = RestXMLErrorEnvelope.decode(response)
        case .json: envelope = JSONErrorEnvelope.decode(response)
        }
        // Load balancers, gateways and emulators sometimes answer a JSON service in XML.
        return envelope ?? QueryErrorEnvelope.decode(response) ?? ErrorEnvelope(code: "HTTP\(response.status)", message: "no error details in the response",
                                         requestId: response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"])
    }

    static func url(_ endpoint: URL, path: String, query: [(String, String)]) -> URL {
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var text = base + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty { text += "?" + URIEncoding.formEncode(query) }
        return URL(string: text)!
    }
}
