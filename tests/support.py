"""Test helpers shared by every tier: an injectable clock and a live server on loopback."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

from werkzeug.serving import make_server


class FrozenClock:
    """A clock that moves only when told to (design.md: no sleeping in tests)."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta) -> None:
        self.now += timedelta(seconds=seconds, **delta)


class LiveServer:
    """Serves a WSGI app on 127.0.0.1 in a background thread until stop().

    The socket is bound to port 0 first, so the port is ours before the app (whose issuer
    names the port) is built: no window in which another process can take it.
    """

    def __init__(self):
        self._server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self, app) -> LiveServer:
        self.app = app
        self._server.app = _close_after_last_chunk(app)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()


def _close_after_last_chunk(app):
    """Close each response once its body is written, as gunicorn always does.

    Werkzeug's development server closes a response only after draining the request
    socket, and skips the close when that read meets a connection the browser already
    reset (seen after a 303 on a loaded machine). Closing runs the app's after-response work,
    the mail it sends (idp.mail.delivery): skipped, a test would wait for mail that only
    the outbox retry would send.
    """

    def serve(environ, start_response):
        body = app(environ, start_response)

        def chunks():
            try:
                yield from body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        return chunks()

    return serve


def free_port() -> int:
    """A loopback port free right now (for servers that cannot bind port 0 themselves)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
