#!/usr/bin/python3
"""https_receiver.py - a Standard Webhooks test receiver for kvpscan's tests.

Standard library only (http.server + ssl).  Listens on 127.0.0.1 on a port it
picks and writes that port to --port-file.  For every request it verifies the
webhook-signature against each --secret-file and appends one JSON line to
DIR/events.jsonl; every byte received goes to DIR/raw.log (for personal-data
greps).  The behaviour is chosen by the first path segment, or by --mode for
any other path:

  /ok      200
  /flaky   500 the first time an id is seen, then 200
  /busy    429 with Retry-After: 7
  /busydate 503 with Retry-After as an HTTP-date 7 seconds ahead
  /busylong 503 with Retry-After: 31536000 (a year: more than any backoff_max)
  /gone    410
  /bad     400
  /moved   301 to /ok (kvpscan must not follow it)
  /slow    sleep --slow-seconds, then 200
  /drop    close the connection without answering
  /batch   sleep --batch-delay, then 200 (to see concurrency)

DIR/max_inflight holds the most requests handled at the same time.
The receiver exits after --time-limit seconds, or on SIGTERM/SIGINT.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

LOCK = threading.Lock()
STATE = {"inflight": 0, "max_inflight": 0, "seen": {}}
ARGS = None
KEYS = []


def decode_secret(text):
    text = text.strip()
    if not text.startswith("whsec_"):
        raise ValueError("secret must start with whsec_")
    return base64.b64decode(text[len("whsec_"):])


def verify(msg_id, ts, body, sig_header):
    """Return, for each configured key, whether one of the v1 signatures matches."""
    content = msg_id.encode() + b"." + ts.encode() + b"." + body
    sigs = []
    for part in sig_header.split(" "):
        if part.startswith("v1,"):
            try:
                sigs.append(base64.b64decode(part[3:], validate=True))
            except ValueError:
                pass
    matched = []
    for key in KEYS:
        mac = hmac.new(key, content, hashlib.sha256).digest()
        matched.append(any(hmac.compare_digest(mac, s) for s in sigs))
    return matched, len(sigs)


def record(event):
    with LOCK:
        with open(os.path.join(ARGS.dir, "events.jsonl"), "a") as f:
            f.write(json.dumps(event, sort_keys=True) + "\n")


def raw_log(data):
    if data:
        with LOCK:
            with open(os.path.join(ARGS.dir, "raw.log"), "ab") as f:
                f.write(data)


class TeeReader:
    """A read-only file wrapper that copies every byte read to raw.log."""

    def __init__(self, f):
        self.f = f

    def read(self, *a):
        d = self.f.read(*a)
        raw_log(d)
        return d

    def readline(self, *a):
        d = self.f.readline(*a)
        raw_log(d)
        return d

    def close(self):
        self.f.close()

    def __getattr__(self, name):
        return getattr(self.f, name)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kvpscan-test-receiver"

    def setup(self):
        self.connection = self.request
        self.connection.settimeout(10)
        # the status line and headers go out in one write and the body in a second: without
        # TCP_NODELAY, Nagle holds the body until the client's delayed ACK (~40 ms a request)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ARGS.cert:
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as e:
                record({"event": "tls_error", "error": str(e)[:200]})
                raise
        self.rfile = TeeReader(self.connection.makefile("rb", -1))
        self.wfile = http.server.socketserver._SocketWriter(self.connection)

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, headers=None, body=b"{}"):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        with LOCK:
            STATE["inflight"] += 1
            STATE["max_inflight"] = max(STATE["max_inflight"], STATE["inflight"])
            with open(os.path.join(ARGS.dir, "max_inflight"), "w") as f:
                f.write("%d\n" % STATE["max_inflight"])
        try:
            self.handle_post()
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    def do_GET(self):
        record({"event": "request", "method": "GET", "path": self.path})
        self.answer(405)

    def handle_post(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length > 0 else b""
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        sig = self.headers.get("webhook-signature", "")
        matched, nsigs = verify(msg_id, ts, body, sig)
        try:
            ts_ok = abs(time.time() - int(ts)) <= 300
        except ValueError:
            ts_ok = False
        route = self.path.strip("/").split("/")[0] or ARGS.mode
        if route not in ROUTES:
            route = ARGS.mode
        with LOCK:
            seen = STATE["seen"].get(msg_id, 0)
            STATE["seen"][msg_id] = seen + 1
        record({
            "event": "request", "method": "POST", "path": self.path, "route": route,
            "id": msg_id, "timestamp_ok": ts_ok, "signatures": nsigs,
            "matched": matched, "verified": bool(matched) and any(matched) and ts_ok,
            "content_type": self.headers.get("Content-Type", ""),
            "user_agent": self.headers.get("User-Agent", ""),
            "body_len": len(body), "seen_before": seen,
        })
        ROUTES[route](self, seen)


def r_ok(h, seen):
    h.answer(200)


def r_flaky(h, seen):
    h.answer(500 if seen == 0 else 200)


def r_busy(h, seen):
    h.answer(429, {"Retry-After": "7"})


def r_busydate(h, seen):
    h.answer(503, {"Retry-After": email.utils.formatdate(time.time() + 7, usegmt=True)})


def r_busylong(h, seen):
    h.answer(503, {"Retry-After": "31536000"})


def r_gone(h, seen):
    h.answer(410)


def r_bad(h, seen):
    h.answer(400)


def r_moved(h, seen):
    h.answer(301, {"Location": "/ok"})


def r_slow(h, seen):
    time.sleep(ARGS.slow_seconds)
    try:
        h.answer(200)
    except OSError:
        pass


def r_drop(h, seen):
    h.close_connection = True
    try:
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def r_batch(h, seen):
    time.sleep(ARGS.batch_delay)
    h.answer(200)


ROUTES = {"ok": r_ok, "flaky": r_flaky, "busy": r_busy, "busydate": r_busydate, "busylong": r_busylong,
          "gone": r_gone, "bad": r_bad, "moved": r_moved, "slow": r_slow,
          "drop": r_drop, "batch": r_batch}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a sender opening 8 connections at once
    # loses a SYN and waits for its retransmission (1 s)
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ssl.SSLError, OSError)):
            record({"event": "handler_error", "error": repr(exc)[:200]})


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", help="server certificate chain (PEM); without it plain HTTP")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--secret-file", action="append", default=[],
                   help="whsec_ secret to verify with (repeatable)")
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True, help="directory for events.jsonl and raw.log")
    p.add_argument("--mode", default="ok", choices=sorted(ROUTES),
                   help="behaviour for paths that name no route")
    p.add_argument("--slow-seconds", type=float, default=5.0)
    p.add_argument("--batch-delay", type=float, default=0.2)
    p.add_argument("--time-limit", type=float, default=60.0)
    ARGS = p.parse_args()
    for path in ARGS.secret_file:
        with open(path) as f:
            KEYS.append(decode_secret(f.read()))

    server = Server(("127.0.0.1", 0), Handler)
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    port = server.server_address[1]
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, ARGS.port_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    stop.wait(ARGS.time_limit)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
