#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""HTTP reverse proxy that injects faults in front of a registry, for tests only.

Requests pass through to --upstream unless a rule matches; rules are tried in order and the first
one with hits left fires. Rule syntax, fields separated by ':' (the path regex must not contain
':'):

    [METHOD=GET][:path~REGEX]:ACTION[:retry-after=S][:count=N][:after=N][:delay=S]

ACTION is an HTTP status (e.g. 429, 503: answered by the proxy with a registry-style JSON error),
`drop` (read the request, then close the connection without a response), `delay` (sleep
`delay` seconds, then pass through), `garbage` (a reply that is not HTTP) or `bigmanifest` (a
5 MiB manifest); the last two are described with their functions below. `count` is how many times the rule fires (default 1;
`count=inf` for always), `after` lets that many matching requests pass first. REGEX is searched in
the request target (path and query). Examples:

    path~/v2/.*/tags/list:429:retry-after=1:count=2
    method=GET:path~/manifests/:503:count=3
    drop:count=2

--paginate N makes tags/list paginate like distribution 3 / Docker Hub (the registry under test,
distribution 2.8, ignores `n` and `last`): at most min(n, N) lexically sorted tags per page, with
a `Link: <...>; rel="next"` header while more remain.

Location headers pointing at the upstream are rewritten to the proxy's own address. Each
decision is one line in --log: `<time> <seq> <METHOD> <target> <decision>` where decision is
`pass <status>`, `fault <status>`, `drop`, `delay <s> pass <status>` or `error <text>`; time
is a monotonic clock in seconds, taken when the decision is logged, so a test can measure the
wait between two attempts.

Package-mirror modes (a separate block below, for the apt archive and the APKINDEX/.apk
server; they act on GET bodies forwarded from upstream):

    reset       close the connection with a TCP RST before any response
    truncate    send the upstream status and its true Content-Length, then half the body, close
    slow        send the body in 256-byte pieces, `delay` seconds apart (default 0.05)
    lie         declare a Content-Length 100 bytes larger than the body, send the body, close
    short       declare a Content-Length 1 byte smaller and send that many bytes: a well-formed
                reply with the wrong bytes (only a checksum can tell)

    path~\.apk$:truncate:count=1
    path~/Packages:short:count=inf

Control endpoint (never forwarded): PUT /__proxy/rules with one rule per line replaces the rules;
GET /__proxy/rules shows them with their remaining hits.
"""

import argparse
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "content-length"}
CHUNK = 1 << 16
MIRROR_ACTIONS = ("reset", "truncate", "slow", "lie", "short")


class Rule:
    def __init__(self, text):
        self.text = text.strip()
        self.method = None
        self.path = None
        self.action = None
        self.retry_after = None
        self.count = 1
        self.after = 0
        self.delay = 0.0
        for field in self.text.split(":"):
            if field.startswith("path~"):
                self.path = re.compile(field[5:])
            elif field.startswith("method="):
                self.method = field[7:].upper()
            elif field.startswith("retry-after="):
                self.retry_after = field[12:]
            elif field.startswith("count="):
                v = field[6:]
                self.count = float("inf") if v in ("inf", "always") else int(v)
            elif field.startswith("after="):
                self.after = int(field[6:])
            elif field.startswith("delay="):
                self.delay = float(field[6:])
            elif field in ("drop", "delay") or field in EXTRA_ACTIONS or field in MIRROR_ACTIONS:
                self.action = field
            elif field.isdigit() and 100 <= int(field) <= 599:
                self.action = int(field)
            else:
                raise ValueError(f"bad rule field '{field}' in '{text}'")
        if self.action is None:
            raise ValueError(f"rule '{text}' has no action (a status, drop or delay)")

    def matches(self, method, target):
        if self.method and self.method != method:
            return False
        return self.path is None or self.path.search(target) is not None

    def describe(self):
        return {"rule": self.text, "left": "inf" if self.count == float("inf") else self.count,
                "skip": self.after}


class Proxy(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, args):
        super().__init__(addr, Handler)
        self.args = args
        u = urlsplit(args.upstream)
        self.up_scheme, self.up_host, self.up_port = u.scheme, u.hostname, u.port
        self.up_base = f"{u.scheme}://{u.netloc}"
        self.lock = threading.Lock()
        self.seq = 0
        self.rules = [Rule(r) for r in args.rule]

    def pick(self, method, target):
        """The rule to apply (consuming one hit) or None; also returns the request's number."""
        with self.lock:
            self.seq += 1
            for r in self.rules:
                if not r.matches(method, target):
                    continue
                if r.after > 0:
                    r.after -= 1
                    continue
                if r.count > 0:
                    r.count -= 1
                    return r, self.seq
            return None, self.seq

    def log(self, seq, method, target, decision):
        with self.lock, open(self.args.log, "a") as f:
            f.write(f"{time.monotonic():.3f} {seq} {method} {target} {decision}\n")

    def connect(self):
        if self.up_scheme == "https":
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.up_host, self.up_port, timeout=60, context=ctx)
        return http.client.HTTPConnection(self.up_host, self.up_port, timeout=60)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_simple(self, code, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def control(self, body):
        srv = self.server
        if self.command == "PUT" and self.path == "/__proxy/rules":
            try:
                rules = [Rule(line) for line in body.decode().splitlines() if line.strip()]
            except ValueError as e:
                self.send_simple(400, {"error": str(e)})
                return
            with srv.lock:
                srv.rules = rules
            self.send_simple(200, [r.describe() for r in rules])
        elif self.command == "GET" and self.path == "/__proxy/rules":
            with srv.lock:
                self.send_simple(200, [r.describe() for r in srv.rules])
        else:
            self.send_simple(404, {"error": "unknown control request"})

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/__proxy/"):
            self.control(body)
            return
        srv = self.server
        method, target = self.command, self.path
        rule, seq = srv.pick(method, target)
        prefix = ""
        if rule is not None and rule.action == "drop":
            srv.log(seq, method, target, "drop")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if rule is not None and rule.action in EXTRA_ACTIONS:
            EXTRA_ACTIONS[rule.action](self, seq)
            return
        if rule is not None and rule.action in MIRROR_ACTIONS:
            mirror_fault(self, rule, seq, body)
            return
        if rule is not None and rule.delay:
            time.sleep(rule.delay)
            prefix = f"delay {rule.delay:g} "
        if rule is not None and isinstance(rule.action, int):
            headers = {}
            if rule.retry_after is not None:
                headers["Retry-After"] = rule.retry_after
            code = "TOOMANYREQUESTS" if rule.action == 429 else "UNAVAILABLE"
            srv.log(seq, method, target, f"{prefix}fault {rule.action}")
            self.send_simple(rule.action, {"errors": [{"code": code, "message": "injected by fault_proxy"}]},
                             headers)
            return
        if srv.args.paginate and method in ("GET", "HEAD") and \
                re.match(r"^/v2/.+/tags/list(\?|$)", target):
            self.paginate(seq, prefix)
            return
        self.forward(seq, prefix, body)

    def upstream_request(self, method, target, body):
        conn = self.server.connect()
        # putheader one by one: repeated headers (several Accept lines) must all reach upstream.
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"{self.server.up_host}:{self.server.up_port}")
        for k, v in self.headers.items():
            if k.lower() not in HOP_BY_HOP and k.lower() != "host":
                conn.putheader(k, v)
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        return conn, conn.getresponse()

    def forward(self, seq, prefix, body):
        srv = self.server
        method, target = self.command, self.path
        try:
            conn, resp = self.upstream_request(method, target, body)
        except OSError as e:
            srv.log(seq, method, target, f"error {e}")
            self.send_simple(502, {"errors": [{"code": "UNAVAILABLE", "message": f"proxy: {e}"}]})
            return
        try:
            length = resp.getheader("Content-Length")
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "location" and v.startswith(srv.up_base):
                    v = f"http://{self.headers.get('Host', '')}" + v[len(srv.up_base):]
                self.send_header(k, v)
            if method == "HEAD" or resp.status in (204, 304) or resp.status < 200:
                if length is not None:
                    self.send_header("Content-Length", length)
                self.end_headers()
            elif length is not None:
                self.send_header("Content-Length", length)
                self.end_headers()
                left = int(length)
                while left > 0:
                    chunk = resp.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
            else:
                data = resp.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            srv.log(seq, method, target, f"{prefix}pass {resp.status}")
        finally:
            conn.close()

    def paginate(self, seq, prefix):
        srv = self.server
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        try:
            conn, resp = self.upstream_request("GET", u.path, b"")
            data = resp.read()
            status = resp.status
            conn.close()
        except OSError as e:
            srv.log(seq, self.command, self.path, f"error {e}")
            self.send_simple(502, {"errors": [{"code": "UNAVAILABLE", "message": f"proxy: {e}"}]})
            return
        if status != 200:
            srv.log(seq, self.command, self.path, f"{prefix}pass {status}")
            self.send_simple(status, data)
            return
        doc = json.loads(data)
        tags = sorted(doc.get("tags") or [])
        size = srv.args.paginate
        if q.get("n"):
            size = max(1, min(size, int(q["n"][0])))
        last = q.get("last", [None])[0]
        if last is not None:
            tags = [t for t in tags if t > last]
        page, rest = tags[:size], tags[size:]
        headers = {}
        if rest:
            nxt = urlencode({"n": size, "last": page[-1]}, quote_via=quote)
            headers["Link"] = f'<{u.path}?{nxt}>; rel="next"'
        srv.log(seq, self.command, self.path, f"{prefix}pass 200 page={len(page)}")
        self.send_simple(200, {"name": doc.get("name"), "tags": page}, headers)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


# --- registry-client faults (k2): replies that are not HTTP, oversized manifests ------------
#
# `garbage`: answers with bytes that are not an HTTP response (what a client reads when stale
# bytes of an earlier exchange sit on a reused connection; curl says "Received HTTP/0.9 when
# not allowed"), then closes the connection.
# `bigmanifest`: answers 200 with a syntactically valid OCI image manifest of 5 MiB (padded
# with an annotation), over the 4 MiB the distribution spec allows.

BIG_MANIFEST_BYTES = 5 << 20


def fault_garbage(handler, seq):
    handler.server.log(seq, handler.command, handler.path, "garbage")
    handler.close_connection = True
    try:
        handler.wfile.write(b"stale bytes that are not an HTTP response\r\n\r\n")
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def fault_bigmanifest(handler, seq):
    digest = "sha256:" + "0" * 64
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": digest, "size": 2},
           "layers": [], "annotations": {"pad": ""}}
    base = len(json.dumps(doc).encode())
    doc["annotations"]["pad"] = "x" * (BIG_MANIFEST_BYTES - base)
    data = json.dumps(doc).encode()
    handler.server.log(seq, handler.command, handler.path, f"bigmanifest {len(data)}")
    handler.send_response(200)
    handler.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)


EXTRA_ACTIONS = {"garbage": fault_garbage, "bigmanifest": fault_bigmanifest}


# ---- package-mirror modes -----------------------------------------------------------------
# Faults of a plain file server (apt archive, APKINDEX and .apk files): they break or bend the
# body of a forwarded GET. Kept apart from the registry modes above so either side can grow.

def mirror_reset(handler):
    """Closes the client connection with an RST (SO_LINGER 0) instead of a FIN."""
    import struct
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    except OSError:
        pass
    handler.close_connection = True


def mirror_fault(handler, rule, seq, body):
    srv = handler.server
    method, target = handler.command, handler.path
    if rule.action == "reset":
        srv.log(seq, method, target, "mirror reset")
        mirror_reset(handler)
        return
    try:
        conn, resp = handler.upstream_request(method, target, body)
        data = resp.read()
        status, reason = resp.status, resp.reason
        ctype = resp.getheader("Content-Type", "application/octet-stream")
        conn.close()
    except OSError as e:
        srv.log(seq, method, target, f"error {e}")
        handler.send_simple(502, {"errors": [{"code": "UNAVAILABLE", "message": f"proxy: {e}"}]})
        return
    declared, sent = len(data), data
    if rule.action == "truncate":
        sent = data[: len(data) // 2]
    elif rule.action == "lie":
        declared = len(data) + 100
    elif rule.action == "short":
        declared = max(0, len(data) - 1)
        sent = data[:declared]
    handler.send_response(status, reason)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(declared))
    if rule.action in ("truncate", "lie"):
        handler.send_header("Connection", "close")
    handler.end_headers()
    try:
        if rule.action == "slow":
            pause = rule.delay or 0.05
            for i in range(0, len(sent), 256):
                handler.wfile.write(sent[i:i + 256])
                handler.wfile.flush()
                time.sleep(pause)
        elif method != "HEAD":
            handler.wfile.write(sent)
            handler.wfile.flush()
    except OSError:
        pass
    if rule.action in ("truncate", "lie"):
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    srv.log(seq, method, target, f"mirror {rule.action} {status} sent={len(sent)} declared={declared}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True, help="registry base URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--rule", action="append", default=[], help="a fault rule (repeatable)")
    p.add_argument("--paginate", type=int, default=0, help="serve tags/list in pages of at most N")
    p.add_argument("--log", default=os.devnull, help="one line per request and decision")
    args = p.parse_args()
    try:
        srv = Proxy(("127.0.0.1", args.port), args)
    except ValueError as e:
        print(f"fault_proxy: {e}", file=sys.stderr)
        return 2
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
