"""A Pwned Passwords range server on 127.0.0.1 for the tests (issue 9, item 3).

It answers GET /range/<5 hex> the way api.pwnedpasswords.com does: one "SUFFIX:COUNT" line
per known hash with that prefix, plus padding lines with a count of 0 when asked for
(Add-Padding: true). It records every request so tests can see what left the IdP.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class PwnedServer:
    url: str  # what PASSWORD_PWNED_URL is set to
    breached: set[str] = field(default_factory=set)  # upper-case SHA-1 hex digests
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, headers)
    mode: str = "answer"  # "answer", "hang" (never answers) or "error" (503)
    release: threading.Event = field(default_factory=threading.Event)

    def add_breached(self, plain_password: str) -> None:
        self.breached.add(hashlib.sha1(plain_password.encode("utf-8")).hexdigest().upper())


@contextmanager
def pwned_server() -> Iterator[PwnedServer]:
    state: PwnedServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            state.requests.append((self.path, {name.lower(): value for name, value in self.headers.items()}))
            if state.mode == "hang":
                state.release.wait(30)
                return
            if state.mode == "error" or not self.path.startswith("/range/"):
                self.send_response(503)
                self.end_headers()
                return
            prefix = self.path.removeprefix("/range/").upper()
            lines = [f"{digest[5:]}:{index + 3}" for index, digest in enumerate(sorted(state.breached))
                     if digest.startswith(prefix)]
            if self.headers.get("Add-Padding") == "true":
                lines += [f"{index:035X}:0" for index in range(5)]
            body = "\r\n".join(lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = PwnedServer(url=f"http://127.0.0.1:{server.server_address[1]}/range/")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
