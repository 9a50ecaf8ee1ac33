import DRAWS
import DRCore
import Foundation
import XCTest

/// A real HTTP server on 127.0.0.1 standing in for the ECS credentials endpoint and EC2
/// instance metadata (IMDSv2): a small Python `http.server` script started per test.
final class MetadataServer {
    let process: Process
    let lifeline = Pipe()
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(_ arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("dr-metadata-server-\(UUID().uuidString).py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: SystemProcessRunner.which("python3") ?? "/usr/bin/python3")
        process.arguments = [script.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        // The server exits when this pipe closes, so it never outlives a crashed test run.
        process.standardInput = lifeline
        try process.run()
        // The first line of stdout is the port.
        var portLine = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            portLine.append(byte)
        }
        try? FileManager.default.removeItem(at: script)
        guard let port = Int(String(decoding: portLine, as: UTF8.self)) else {
            process.terminate()
            XCTFail("the metadata server did not start", file: file, line: line)
            throw CocoaError(.fileReadUnknown)
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        // SIGKILL: the test runner's children may inherit a blocked SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? lifeline.fileHandleForWriting.close()
    }

    /// How many requests the server saw, by "METHOD path".
    func stats() async throws -> [String: Int] {
        let response = try await CurlTransport().send(HTTPRequest(method: "GET", url: URL(string: base + "/_stats")!), timeout: 5)
        return (try JSONSerialization.jsonObject(with: response.body) as? [String: Int]) ?? [:]
    }

    static let script = #"""
#!/usr/bin/env python3
"""A stand-in for the ECS container credentials endpoint and the EC2 instance metadata
service (IMDSv2), for the credential chain tests. Listens on 127.0.0.1 on a free port and
prints the port on its first line of stdout.

ECS:  GET <--ecs-path>                       (needs 'Authorization: <--ecs-token>' when given)
IMDS: PUT /latest/api/token                  (needs X-aws-ec2-metadata-token-ttl-seconds)
      GET /latest/meta-data/iam/security-credentials/[role]  (needs X-aws-ec2-metadata-token)
      --imds-role '' answers 404 for the role listing (an instance without a role).
Also: GET /hang sleeps 30 s (timeouts); GET /_stats returns request counts as JSON.
"""
import argparse, datetime, json, os, secrets, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--ecs-path", default="/v2/credentials/test-task")
parser.add_argument("--ecs-token", default=None)
parser.add_argument("--imds-role", default="dr-test-role")
parser.add_argument("--expires-in", type=int, default=3600)
args = parser.parse_args()

lock = threading.Lock()
stats = {}
tokens = set()


def count(key):
    with lock:
        stats[key] = stats.get(key, 0) + 1


def credentials(prefix):
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=args.expires_in)
    return {
        "Code": "Success",
        "Type": "AWS-HMAC",
        "AccessKeyId": f"ASIA{prefix}TESTKEY",
        "SecretAccessKey": f"{prefix.lower()}-secret-access-key",
        "Token": f"{prefix.lower()}-session-token",
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "RoleArn": "arn:aws:iam::123456789012:role/dr-test-role",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", content_type="text/plain"):
        if isinstance(body, (dict, list)):
            body, content_type = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        count(f"PUT {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/latest/api/token":
            return self.reply(404)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit() or not (1 <= int(ttl) <= 21600):
            return self.reply(400, "missing or invalid X-aws-ec2-metadata-token-ttl-seconds")
        token = secrets.token_hex(16)
        with lock:
            tokens.add(token)
        self.reply(200, token)

    def do_GET(self):
        count(f"GET {self.path}")
        if self.path == "/_stats":
            with lock:
                return self.reply(200, dict(stats))
        if self.path == "/hang":
            time.sleep(30)
            return self.reply(200, "late")
        if self.path == args.ecs_path:
            if args.ecs_token is not None and self.headers.get("Authorization") != args.ecs_token:
                return self.reply(401, {"message": "invalid authorization token"})
            return self.reply(200, credentials("ECS"))
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            with lock:
                ok = self.headers.get("X-aws-ec2-metadata-token") in tokens
            if not ok:
                return self.reply(401, "")
            role = self.path[len(prefix):]
            if role == "":
                return self.reply(404) if args.imds_role == "" else self.reply(200, args.imds_role)
            if role == args.imds_role:
                return self.reply(200, credentials("IMDS"))
            return self.reply(404)
        self.reply(404)


def exit_when_parent_goes():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_when_parent_goes, daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""#
}
