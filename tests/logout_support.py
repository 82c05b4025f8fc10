"""Helpers for single sign-out tests: a relying party's back-channel logout endpoint on
loopback (real HTTP) that answers as told, and signing a person in to several clients."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from sqlalchemy import select

from idp.extensions import db
from idp.logout.models import LogoutDelivery
from tests.oidc_support import (
    RegisteredClient,
    SignIn,
    authorization_params,
    make_client,
)
from tests.support import free_port


class Receiver:
    """A back-channel logout endpoint on 127.0.0.1. `mode`: "ok" (200), "error" (500),
    "refuse" (400) or "hang" (answers nothing until the test ends). Keeps every form body."""

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.received: list[dict[str, list[str]]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.received.append(parse_qs(self.rfile.read(length).decode()))
                if receiver.mode == "hang":
                    receiver.release.wait(30)  # the IdP's LOGOUT_TIMEOUT gives up long before
                    return
                status = {"ok": 200, "error": 500, "refuse": 400}[receiver.mode]
                body = b"{}" if status == 200 else b'{"error": "invalid_request"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def tokens(self) -> list[str]:
        return [body["logout_token"][0] for body in self.received]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def down_url() -> str:
    """A loopback URL nobody listens on: the connection is refused."""
    return f"http://127.0.0.1:{free_port()}/backchannel-logout"


def logout_client(app, name: str, backchannel: str | None = None, frontchannel: str | None = None,
                  **options) -> RegisteredClient:
    return make_client(app, name=name, backchannel_logout_uri=backchannel, backchannel_logout_session_required=True,
                       frontchannel_logout_uri=frontchannel, frontchannel_logout_session_required=bool(frontchannel),
                       **options)


def sign_in_to(http, *clients: RegisteredClient, **kwargs) -> list[dict[str, str]]:
    """Sign in (once) and get a code for each client in turn: one session, several clients."""
    walker = SignIn(http)
    return [walker.code_for(authorization_params(client), **kwargs) for client in clients]


def deliveries(app) -> list[LogoutDelivery]:
    with app.app_context():
        found = list(db.session.scalars(select(LogoutDelivery).order_by(LogoutDelivery.id)))
        db.session.expunge_all()
        return found
