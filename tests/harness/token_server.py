#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Bearer token server for docker-registry's `auth.token` mode, for tests only.

Implements the Docker token protocol (GET /token?service=..&scope=..): checks HTTP Basic
credentials against a users file (or lets anonymous clients pull with --anonymous-pull) and
returns an RS256 JWT whose header carries the signing certificate in `x5c`, so the registry can
verify it against its `rootcertbundle`. Signing shells out to `openssl dgst -sha256 -sign`, so
only the Python standard library is needed. Every request is logged as one line to --log.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN_TTL = 300


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(cert_path):
    """The certificate as standard base64 DER, the form x5c requires."""
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


def parse_scope(scope):
    """'repository:foo/bar:pull,push' -> ('repository', 'foo/bar', ['pull', 'push'])."""
    typ, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not typ or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


class TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, args):
        super().__init__(addr, Handler)
        self.args = args
        self.x5c = cert_der_b64(args.cert)
        self.users = {}
        with open(args.users) as f:
            for line in f:
                line = line.rstrip("\n")
                if ":" in line:
                    user, _, password = line.partition(":")
                    self.users[user] = password
        self.log_lock = threading.Lock()

    def log_line(self, line):
        with self.log_lock, open(self.args.log, "a") as f:
            f.write(line + "\n")

    def sign(self, signing_input):
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.args.key],
                              input=signing_input, check=True, capture_output=True).stdout

    def issue(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": self.args.issuer,
            "sub": subject,
            "aud": self.args.service,
            "exp": now + TOKEN_TTL,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode())).encode()
        return signing_input.decode() + "." + b64url(self.sign(signing_input))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: decisions go to --log
        pass

    def reply(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def authenticate(self):
        """Returns the user name, '' for anonymous, or None for bad credentials."""
        hdr = self.headers.get("Authorization", "")
        if not hdr:
            return ""
        if not hdr.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(hdr[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if self.server.users.get(user) != password or not user:
            return None
        return user

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/token":
            self.reply(404, {"error": "not found"})
            return
        q = parse_qs(url.query)
        srv = self.server
        user = self.authenticate()
        scopes = []
        for s in q.get("scope", []):
            # Several scopes may also arrive space-separated in one parameter.
            scopes.extend(x for x in s.split(" ") if x)
        if user is None:
            srv.log_line(f"deny bad-credentials scopes={' '.join(scopes)}")
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]},
                       {"WWW-Authenticate": 'Basic realm="pf-token"'})
            return
        if user == "" and not srv.args.anonymous_pull:
            srv.log_line(f"deny anonymous scopes={' '.join(scopes)}")
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                       {"WWW-Authenticate": 'Basic realm="pf-token"'})
            return
        if q.get("service", [srv.args.service])[0] != srv.args.service:
            srv.log_line(f"deny service={q.get('service')}")
            self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return
        access = []
        for s in scopes:
            parsed = parse_scope(s)
            if not parsed:
                continue
            typ, name, actions = parsed
            if user == "":
                actions = [a for a in actions if a == "pull"]
            elif "*" in actions:
                actions = ["pull", "push", "delete"]
            access.append({"type": typ, "name": name, "actions": actions})
        token = srv.issue(user or "anonymous", access)
        srv.log_line(f"grant user={user or '-'} access=" +
                     ";".join(f"{a['type']}:{a['name']}:{','.join(a['actions'])}" for a in access))
        self.reply(200, {"token": token, "access_token": token, "expires_in": TOKEN_TTL,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--key", required=True, help="RSA private key (PEM) that signs tokens")
    p.add_argument("--cert", required=True, help="certificate of --key, sent in x5c")
    p.add_argument("--users", required=True, help="file of user:password lines")
    p.add_argument("--issuer", default="pf-token-issuer")
    p.add_argument("--service", default="pf-registry")
    p.add_argument("--anonymous-pull", action="store_true", help="grant pull without credentials")
    p.add_argument("--log", default=os.devnull, help="one line per token request")
    args = p.parse_args()
    srv = TokenServer(("127.0.0.1", args.port), args)
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
