"""Small HTTP servers on 127.0.0.1 for tests: upstreams with liveness/readiness, a single sign-on stand-in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, dict[str, str], bytes]


class LocalServer:
    """A threaded HTTP server answering with `handle(method, path, headers)`; records every request."""

    def __init__(self, handle: Callable[[str, str, dict[str, str]], Answer]):
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def _answer(self) -> None:
                headers = {k: v for k, v in self.headers.items()}
                server.requests.append((self.path, headers))
                status, extra, body = handle(self.command, self.path, headers)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Upstream(LocalServer):
    """A platform service: liveness on /health, readiness on /ready (switchable), anything else echoes."""

    def __init__(self, name: str, liveness: str = "/health", readiness: str = "/ready"):
        self.name = name
        self.ready = True

        def handle(method: str, path: str, headers: dict[str, str]) -> Answer:
            if path == liveness:
                return 200, {}, b"alive"
            if path == readiness:
                return (200, {}, b"ready") if self.ready else (503, {}, b"starting")
            user = headers.get("X-Auth-Request-User", "-")
            return 200, {"Content-Type": "text/plain"}, f"{name} {path} user={user}".encode()

        super().__init__(handle)
        self.probes = (liveness, readiness)

    def traffic(self) -> list[str]:
        """Requests that were not liveness or readiness probes."""
        return [p for p in self.paths() if p not in self.probes]


SESSION_COOKIE = "_oauth2_proxy"
VALID_SESSION = "signed-in-session"


class SignOnStandIn(LocalServer):
    """Answers like oauth2-proxy behind forward auth: 202 + identity for a valid session cookie, else 401."""

    def __init__(self, prefix: str = "/oauth2"):
        def handle(method: str, path: str, headers: dict[str, str]) -> Answer:
            if path.startswith(f"{prefix}/auth"):
                if f"{SESSION_COOKIE}={VALID_SESSION}" in headers.get("Cookie", ""):
                    return 202, {"X-Auth-Request-User": "alice", "X-Auth-Request-Email": "alice@acme.io"}, b""
                return 401, {}, b"unauthorized"
            if path.startswith(f"{prefix}/sign_in"):
                return 200, {"Content-Type": "text/html"}, b"<h1>sign in</h1>"
            if path in ("/ping", "/ready"):
                return 200, {}, b"OK"
            return 404, {}, b"not found"

        super().__init__(handle)
        self.prefix = prefix

    def auth_calls(self) -> int:
        return sum(1 for p in self.paths() if p.startswith(f"{self.prefix}/auth"))
