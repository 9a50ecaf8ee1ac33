import DRCore
import Foundation

/// A local HTTP server (Python, on 127.0.0.1) that answers 200 to every POST and keeps each
/// body as one line of a file: what a Slack webhook would have received.
public final class WebhookRecorder {
    public let url: String
    private let process: Process
    private let bodies: String

    public init(folder: String) throws {
        bodies = folder + "/webhook-bodies.jsonl"
        let portFile = folder + "/webhook.port"
        let script = """
        import http.server, sys
        bodies, port_file = sys.argv[1], sys.argv[2]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                with open(bodies, 'ab') as f:
                    f.write(body.replace(b'\\n', b' ') + b'\\n')
                self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')
            def log_message(self, *args):
                pass
        s = http.server.HTTPServer(('127.0.0.1', 0), H)
        open(port_file + '.tmp', 'w').write(str(s.server_address[1]))
        import os; os.rename(port_file + '.tmp', port_file)
        s.serve_forever()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, bodies, portFile]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard Date() < deadline, process.isRunning else { process.terminate(); throw TestClusterError("the webhook recorder did not start") }
            usleep(20_000)
        }
        url = "http://127.0.0.1:\((try String(contentsOfFile: portFile, encoding: .utf8)))/services/T000/B000/secret-token"
        self.process = process
    }

    /// Every body received so far, decoded.
    public var received: [[String: Any]] {
        let text = (try? String(contentsOfFile: bodies, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    public func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
