#!/usr/bin/env python3
"""A small HTTP proxy in front of the AWS emulator that injects faults, for retry tests.

  fault-proxy.py --upstream http://127.0.0.1:PORT [--schedule 503,throttle,ok,...]
                 [--ratio 0.33 --seed 7 --kinds 500,503,throttle,drop] [--delay 2]
                 [--max-requests N] [--port 0] [--report-state creating:2:prod-db-restore,...]
                 [--log FILE] [--echo-action CopyDBSnapshot,...]

Each incoming request takes the next fault from --schedule (then passes everything through),
or, with --ratio, a fault drawn from --kinds with that probability from a seeded generator, so
a run is repeatable. Fault kinds:
  ok          forward unchanged
  500, 503    a server error shaped for the request's protocol
  throttle    a throttling error shaped for the protocol (Query XML `<ErrorResponse>` with
              Code Throttling, JSON `{"__type": "ThrottlingException"}`, REST-XML `<ErrorResponse>`)
  denied      a non-retryable error (AccessDenied / AccessDeniedException), status 403
  delay       wait --delay seconds, then forward (`--ratio 1 --kinds delay` delays every request)
  drop        close the connection without answering
--echo-action ACTION answers every Query request for ACTION (or JSON request for that operation)
with a non-retryable error (HTTP 400 InvalidParameterValue) whose message echoes the request, as
some gateways and services do: the form body, the X-Amz-Security-Token and Authorization headers,
and the body in base64 — to test that no form of a secret reaches dr's output.
--report-state STATE:N:ID makes the first N answers to RDS Describe calls naming resource ID
(DB instance or cluster) report STATE where the emulator says `available` (moto makes everything
available at once), so waits and their progress can be seen. --log FILE appends one JSON line per
forwarded request: {"start", "end" (epoch seconds), "method", "path", "form" (a form body's fields)}. Listens on 127.0.0.1 only, prints `PORT <n>` on its first stdout line, stops on SIGTERM/SIGINT
or after --max-requests. GET /__fault/stats returns the counts as JSON.
"""
import argparse
import http.client
import http.server
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse

MAX_BODY = 16 << 20
log_lock = threading.Lock()


def shaped_error(headers, path, kind):
    """(status, content type, body) for a fault, in the protocol the request speaks."""
    codes = {"500": (500, "InternalError", "InternalFailure", "We encountered an internal error."),
             "503": (503, "ServiceUnavailable", "ServiceUnavailableException", "Service is unavailable."),
             "throttle": (400, "Throttling", "ThrottlingException", "Rate exceeded"),
             "denied": (403, "AccessDenied", "AccessDeniedException", "Injected: not authorized")}
    status, xml_code, json_code, message = codes[kind]
    request_id = "fault-%08x" % random.getrandbits(32)
    if headers.get("X-Amz-Target"):
        body = json.dumps({"__type": json_code, "message": message})
        return status, "application/x-amz-json-1.1", body, request_id
    if path.startswith("/2013-04-01"):
        body = ('<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
                f"<Error><Type>Sender</Type><Code>{xml_code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return status, "text/xml", body, request_id
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{xml_code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return status, "text/xml", body, request_id


class PendingStates:
    """--report-state: intermediate states for named RDS resources, a given number of times."""
    STATUS_TAGS = (b"DBInstanceStatus", b"Status")

    def __init__(self, spec):
        self.lock = threading.Lock()
        self.left = {}
        for item in (spec or "").split(","):
            if item:
                state, count, ident = item.split(":", 2)
                self.left[ident] = [state, int(count)]

    def rewrite(self, request_body, response_body):
        if not self.left:
            return response_body
        form = urllib.parse.parse_qs(request_body.decode("utf-8", "replace"))
        if not form.get("Action", [""])[0].startswith("Describe"):
            return response_body
        named = [v[0] for k, v in form.items() if k in ("DBInstanceIdentifier", "DBClusterIdentifier")]
        with self.lock:
            for ident in named:
                entry = self.left.get(ident)
                if not entry or entry[1] <= 0:
                    continue
                changed = response_body
                for tag in self.STATUS_TAGS:
                    changed = changed.replace(b"<%s>available</%s>" % (tag, tag), b"<%s>%s</%s>" % (tag, entry[0].encode(), tag))
                if changed != response_body:
                    entry[1] -= 1
                    return changed
        return response_body


def echo_error(headers, body):
    """(status, content type, body) of an error that repeats the request back."""
    import base64
    from xml.sax.saxutils import escape
    text = ("echo: body=" + body.decode("utf-8", "replace") + " token=" + headers.get("X-Amz-Security-Token", "")
            + " auth=" + headers.get("Authorization", "") + " base64=" + base64.b64encode(body).decode())
    if headers.get("X-Amz-Target"):
        return 400, "application/x-amz-json-1.1", json.dumps({"__type": "InvalidParameterException", "message": text})
    return 400, "text/xml", ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>"
                             f"<Message>{escape(text)}</Message></Error><RequestId>echo-1</RequestId></ErrorResponse>")


def action_of(headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    return urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]


class Faults:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.schedule = [s for s in (args.schedule or "").split(",") if s]
        self.ratio = args.ratio
        self.kinds = [k for k in args.kinds.split(",") if k]
        self.rng = random.Random(args.seed)
        self.stats = {"requests": 0, "faults": 0, "forwarded": 0, "by_kind": {}}

    def next(self):
        with self.lock:
            self.stats["requests"] += 1
            if self.schedule:
                kind = self.schedule.pop(0)
            elif self.ratio > 0 and self.rng.random() < self.ratio:
                kind = self.rng.choice(self.kinds)
            else:
                kind = "ok"
            self.stats["by_kind"][kind] = self.stats["by_kind"].get(kind, 0) + 1
            if kind not in ("ok", "delay"):
                self.stats["faults"] += 1
            return kind


def make_handler(args, faults, server_ref, pending):
    upstream = urllib.parse.urlparse(args.upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def _handle(self):
            if self.path == "/__fault/stats":
                body = json.dumps(faults.stats).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_error(413)
                return
            body = self.rfile.read(length) if length else b""
            action = action_of(self.headers, body)
            if action and action in [a for a in args.echo_action.split(",") if a]:
                status, ctype, text = echo_error(self.headers, body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            kind = faults.next()
            if kind == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if kind in ("500", "503", "throttle", "denied"):
                status, ctype, text, request_id = shaped_error(self.headers, self.path, kind)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", request_id)
                self.end_headers()
                self.wfile.write(data)
                return
            started = time.time()
            if kind == "delay":
                time.sleep(args.delay)
            faults.stats["forwarded"] += 1
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "proxy-connection")}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = pending.rewrite(body, resp.read())
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()
            if args.log:
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
                line = json.dumps({"start": started, "end": time.time(), "method": self.command, "path": self.path,
                                   "form": {k: v[0] for k, v in form.items()}})
                with log_lock, open(args.log, "a") as f:
                    f.write(line + "\n")
            if args.max_requests and faults.stats["requests"] >= args.max_requests:
                os._exit(0)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--schedule", default="")
    p.add_argument("--ratio", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kinds", default="500,503,throttle,drop")
    p.add_argument("--delay", type=float, default=2.0)
    p.add_argument("--max-requests", type=int, default=0)
    p.add_argument("--report-state", default="")
    p.add_argument("--log", default="")
    p.add_argument("--echo-action", default="")
    args = p.parse_args()
    faults = Faults(args)
    server_ref = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args, faults, server_ref, PendingStates(args.report_state)))
    server.daemon_threads = True
    server_ref.append(server)
    # Stop at once on SIGTERM: in-flight requests are test traffic, nothing to drain.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
