"""Helpers for the browser tier: people and clients made through the real services, and a
relying party's form_post receiver on loopback."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idp.context import app_context
from idp.extensions import db

PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    given_name: str
    family_name: str


def create_person(app, email: str = "ana.tremblay@example.ca", password: str = PASSWORD) -> Person:
    """An account made by AccountService in the live server's app, committed."""
    from idp.accounts.services import AccountService

    with app.app_context():
        collaborators = app_context()
        AccountService(db.session, collaborators.settings, collaborators.clock, collaborators.passwords).create_user(
            email, "Ana", "Tremblay", password
        )
        db.session.commit()
    return Person(email=email, password=password, given_name="Ana", family_name="Tremblay")


def create_client(app, redirect_uri: str, **options) -> tuple[str, str | None]:
    """A relying party registered by ClientService; returns (client_id, plain_secret)."""
    from idp.oidc.clients import ClientService

    with app.app_context():
        collaborators = app_context()
        client, secret = ClientService(db.session, collaborators.settings, collaborators.clock, collaborators.hasher).create(
            name=options.pop("name", "Portail de démonstration"), redirect_uris=[redirect_uri], **options
        )
        db.session.commit()
        return client.client_id, secret


@dataclass
class RedirectReceiver:
    """A relying party's redirect URI on its own loopback port. It records each authorization
    response it receives: the query of a GET (response_mode=query) or the body of a POST
    (OAuth 2.0 Form Post Response Mode), with "method" saying which."""

    received: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._got_one = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/callback"

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.path == "/callback" and request.method in ("GET", "POST"):
            values = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
            self.received.append({"method": request.method, **values})
            self._got_one.set()
            return Response(
                "<!doctype html><html lang='en'><head><title>Received</title></head>"
                "<body><main><h1>Received</h1></main></body></html>",
                content_type="text/html; charset=utf-8",
            )
        return Response("not found", status=404)

    def start(self) -> RedirectReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def wait(self, page=None, timeout: float = 10) -> dict[str, str]:
        """The first response received; fails if none arrives within the timeout.

        Given the page, waits through Playwright so the page's events keep being delivered
        (the sync API dispatches them only while Playwright has control).
        """
        if page is None:
            arrived = self._got_one.wait(timeout)
        else:
            for _ in range(int(timeout * 10)):
                if self._got_one.is_set():
                    break
                page.wait_for_timeout(100)
            arrived = self._got_one.is_set()
        assert arrived, "the authorization response never reached the redirect URI"
        return self.received[0]
