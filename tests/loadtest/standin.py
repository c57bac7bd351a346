#!/usr/bin/env python3
"""A local stand-in of the fan site for loadtests/surge.js (standard library only).

It answers, quickly and as the stack does, every request the surge makes:

    GET  /, /index.html and the app's routes (a path whose last part has no
         file extension, such as /posts/123)    the React build's index.html, as
                                                the site routes function serves it
    GET  /assets/<file>                         the build's script and style sheet
                                                (index.html names them); another
                                                file is a 403, as S3 behind
                                                Origin Access Control answers
    GET  /api/posts[?limit=N]                   the newest posts (20, at most 100)
    GET  /api/posts/<id>                        one post, or a 404
    POST /api/posts                             a new post (201), with
                                                `Authorization: Bearer <ID token>`
                                                from InitiateAuth, else a 401
    POST (any path) with X-Amz-Target: AWSCognitoIdentityProviderService.<Action>
         SignUp                                 a new fan (email username, the pool's
                                                required nickname); confirmed at once,
                                                as a pre sign-up trigger that confirms
                                                load-test fans would
         InitiateAuth                           USER_PASSWORD_AUTH: the fan's tokens
    GET  /_standin/stats                        what was served, by kind (JSON)

Options that make the surge fail its thresholds:

    --slow-ms N       wait N ms before each answer (p95 thresholds)
    --error-rate X    answer that share of requests (0 to 1) with a 503
                      (http_req_failed and checks thresholds)

Usage:
    standin.py [--host 127.0.0.1] [--port 0] [--port-file FILE]
               [--slow-ms N] [--error-rate X] [--seed N]

Prints `standin: listening on http://HOST:PORT` once it listens (and writes
the port to --port-file, atomically); serves until SIGTERM or SIGINT.
"""

import argparse
import json
import os
import random
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# What a Vite build of the React app writes: index.html and hashed assets.
SCRIPT = "/assets/index-5f3c2a1b.js"
STYLE = "/assets/index-9d81e0c4.css"
ASSETS = {
    SCRIPT: ("text/javascript", b"(()=>{document.getElementById('root').textContent='fansite'})();\n" * 40),
    STYLE: ("text/css", b":root{color-scheme:light dark}body{margin:0;font-family:system-ui}\n" * 20),
}
INDEX = f"""<!doctype html>
<html lang="ko">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>fansite</title>
    <script type="module" crossorigin src="{SCRIPT}"></script>
    <link rel="stylesheet" crossorigin href="{STYLE}">
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
""".encode()

COGNITO = "AWSCognitoIdentityProviderService."
POST_ID = re.compile(r"^/api/posts/([0-9]+)$")
SEEDED_POSTS = 100


class Site:
    """The stand-in's state: posts, fans and their tokens, and counts."""

    def __init__(self, slow_ms, error_rate, seed):
        self.slow = slow_ms / 1000.0
        self.error_rate = error_rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.posts = {}
        self.fans = {}  # email -> (password, sub, nickname)
        self.id_tokens = {}  # token -> email
        self.counts = {}
        for i in range(1, SEEDED_POSTS + 1):
            self.posts[i] = {
                "id": i,
                "title": f"Post {i}",
                "body": "See you at the show!",
                "nickname": f"fan{i}",
            }

    def count(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def fail_now(self):
        if self.error_rate <= 0:
            return False
        with self.lock:
            return self.random.random() < self.error_rate


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, delayed ACKs hold
    # the body back some 40 ms.
    disable_nagle_algorithm = True
    server_version = "fansite-standin"
    site: Site  # set on the class by main()

    def log_message(self, fmt, *args):  # quiet: the surge makes thousands
        pass

    # -- answers ----------------------------------------------------------

    def send(self, status, body, content_type, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def json(self, status, value, content_type="application/json"):
        self.send(status, json.dumps(value).encode(), content_type)

    def cognito_error(self, status, kind, message):
        self.json(status, {"__type": kind, "message": message}, "application/x-amz-json-1.1")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def before(self, body_read=False):
        """The injected slowness and errors; True when the request is answered."""
        if not body_read:
            self.read_body()
        if self.site.slow > 0:
            time.sleep(self.site.slow)
        if self.site.fail_now():
            self.site.count("injected 503")
            self.json(503, {"message": "stand-in: injected error"})
            return True
        return False

    # -- GET --------------------------------------------------------------

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path == "/_standin/stats":
            with self.site.lock:
                counts = dict(self.site.counts)
            self.json(200, counts)
            return
        if self.before():
            return
        if path.startswith("/api/"):
            self.api_get(path, parse_qs(url.query))
        elif path in ASSETS:
            self.site.count("asset")
            content_type, body = ASSETS[path]
            self.send(200, body, content_type, {"Cache-Control": "public, max-age=31536000, immutable"})
        elif path == "/" or path == "/index.html" or "." not in path.rsplit("/", 1)[-1]:
            self.site.count("page")
            self.send(200, INDEX, "text/html; charset=utf-8", {"Cache-Control": "no-cache"})
        else:
            self.site.count("missing file")
            self.send(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")

    def api_get(self, path, query):
        if path == "/api/posts":
            try:
                limit = int(query.get("limit", ["20"])[0])
            except ValueError:
                self.json(400, {"message": "limit: a number"})
                return
            limit = max(1, min(limit, 100))
            with self.site.lock:
                newest = sorted(self.site.posts.values(), key=lambda p: -p["id"])[:limit]
            self.site.count("GET /api/posts")
            self.json(200, {"posts": newest})
            return
        m = POST_ID.match(path)
        if m:
            with self.site.lock:
                post = self.site.posts.get(int(m.group(1)))
            self.site.count("GET /api/posts/{id}")
            if post is None:
                self.json(404, {"message": "no such post"})
            else:
                self.json(200, post)
            return
        self.site.count("api not found")
        self.json(404, {"message": "not found"})

    # -- POST -------------------------------------------------------------

    def do_POST(self):
        body = self.read_body()
        if self.before(body_read=True):
            return
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith(COGNITO):
            self.cognito(target[len(COGNITO):], body)
        elif urlsplit(self.path).path == "/api/posts":
            self.new_post(body)
        else:
            self.site.count("not found")
            self.json(404, {"message": "not found"})

    def new_post(self, body):
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with self.site.lock:
            email = self.site.id_tokens.get(token)
            nickname = self.site.fans[email][2] if email else None
        if nickname is None:
            self.site.count("POST /api/posts 401")
            self.json(401, {"message": "sign in first: Authorization: Bearer <ID token>"})
            return
        try:
            value = json.loads(body or b"null")
            title = value["title"]
            text = value.get("body", "")
            if not isinstance(title, str) or not title or not isinstance(text, str):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            self.json(400, {"message": "a JSON object with title and body"})
            return
        with self.site.lock:
            pid = max(self.site.posts) + 1
            post = {"id": pid, "title": title, "body": text, "nickname": nickname}
            self.site.posts[pid] = post
        self.site.count("POST /api/posts")
        self.json(201, post)

    def cognito(self, action, body):
        try:
            req = json.loads(body or b"null")
            if not isinstance(req, dict) or not req.get("ClientId"):
                raise ValueError
        except ValueError:
            self.cognito_error(400, "InvalidParameterException", "a JSON request with ClientId")
            return
        if action == "SignUp":
            self.sign_up(req)
        elif action == "InitiateAuth":
            self.initiate_auth(req)
        else:
            self.cognito_error(400, "InvalidAction", f"the stand-in does not answer {action}")

    def sign_up(self, req):
        email = req.get("Username") or ""
        password = req.get("Password") or ""
        attrs = {a.get("Name"): a.get("Value") for a in req.get("UserAttributes") or [] if isinstance(a, dict)}
        if "@" not in email:
            self.cognito_error(400, "InvalidParameterException", "Username should be an email.")
            return
        if not attrs.get("nickname"):
            self.cognito_error(400, "InvalidParameterException", "Attributes did not conform to the schema: nickname: The attribute is required")
            return
        if len(password) < 8:
            self.cognito_error(400, "InvalidPasswordException", "Password did not conform with policy: Password not long enough")
            return
        sub = str(uuid.uuid4())
        with self.site.lock:
            if email in self.site.fans:
                exists = True
            else:
                exists = False
                self.site.fans[email] = (password, sub, attrs["nickname"])
        if exists:
            self.cognito_error(400, "UsernameExistsException", "An account with the given email already exists.")
            return
        self.site.count("SignUp")
        self.json(200, {"UserConfirmed": True, "UserSub": sub}, "application/x-amz-json-1.1")

    def initiate_auth(self, req):
        params = req.get("AuthParameters") or {}
        if req.get("AuthFlow") != "USER_PASSWORD_AUTH":
            self.cognito_error(400, "InvalidParameterException", "the stand-in answers AuthFlow USER_PASSWORD_AUTH")
            return
        email = params.get("USERNAME")
        with self.site.lock:
            fan = self.site.fans.get(email)
        if fan is None or fan[0] != params.get("PASSWORD"):
            self.cognito_error(400, "NotAuthorizedException", "Incorrect username or password.")
            return
        id_token = "standin." + secrets.token_urlsafe(24)
        with self.site.lock:
            self.site.id_tokens[id_token] = email
        self.site.count("InitiateAuth")
        self.json(
            200,
            {
                "AuthenticationResult": {
                    "AccessToken": "standin-access." + secrets.token_urlsafe(24),
                    "IdToken": id_token,
                    "RefreshToken": "standin-refresh." + secrets.token_urlsafe(24),
                    "ExpiresIn": 3600,
                    "TokenType": "Bearer",
                },
                "ChallengeParameters": {},
            },
            "application/x-amz-json-1.1",
        )


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The surge opens many connections at once: a long listen queue.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # k6 closes its connections when the run ends: not worth a traceback.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def parse_args(argv):
    p = argparse.ArgumentParser(description="A local stand-in of the fan site for loadtests/surge.js.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--port-file", help="where to write the port once listening")
    p.add_argument("--slow-ms", type=int, default=0, help="wait this long before each answer")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 503 (0 to 1)")
    p.add_argument("--seed", type=int, default=1, help="seed of the injected errors")
    a = p.parse_args(argv)
    if a.slow_ms < 0:
        p.error("--slow-ms: 0 or more")
    if not 0.0 <= a.error_rate <= 1.0:
        p.error("--error-rate: 0 to 1")
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    Handler.site = Site(args.slow_ms, args.error_rate, args.seed)
    server = Server((args.host, args.port), Handler)
    port = server.server_address[1]

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"standin: listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.port_file:
            try:
                os.remove(args.port_file)
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
