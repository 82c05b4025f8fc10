"""Helpers for the browser tier: people and clients made through the real services, and a
relying party's form_post receiver on loopback."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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

    def forget(self) -> None:
        """Wait for the next response from scratch (a second journey in the same test)."""
        self.received.clear()
        self._got_one.clear()

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


# --- The sign-in steps after the password (idp/mfa, idp/terms) -----------------------------

# What the steps' controls are called, per language (the fr catalog's words).
STEP_TEXT = {
    "fr": {"code": "Code de vérification", "validate": "Valider le code", "accept": "J'ai lu et j'accepte"},
    "en": {"code": "Verification code", "validate": "Validate the code", "accept": "I have read and I accept"},
}
# Mail leaves after the response, in the live server's thread: generous on a loaded machine.
MAIL_TIMEOUT = 30


def finish_signin_steps(page, locale: str, email: str, codes_before: int, accept_terms: bool = True) -> None:
    """From wherever the password led: type the emailed code (read from the SMTP server the
    live IdP sends to), then accept the terms if asked. Stops on any other page."""
    from tests.signin_support import wait_for_signin_code

    text = STEP_TEXT[locale]
    for _ in range(3):
        path = urlsplit(page.url).path
        if path == "/signin/code":
            code = wait_for_signin_code(email, codes_before, timeout=MAIL_TIMEOUT)
            page.get_by_label(text["code"], exact=True).fill(code)
            with page.expect_navigation():
                page.get_by_role("button", name=text["validate"], exact=True).click()
        elif path == "/signin/terms" and accept_terms:
            with page.expect_navigation():
                page.get_by_role("button", name=text["accept"], exact=True).click()
        else:
            return


def plug_in_key(page, key) -> None:
    """Chromium's virtual authenticator (CDP) on this page's browser, holding the key of a
    tests.webauthn_support.SoftwareAuthenticator registered for rp id "localhost"."""
    import base64

    from cryptography.hazmat.primitives import serialization

    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})["authenticatorId"]
    pkcs8 = key.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
    devtools.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        "credentialId": base64.b64encode(key.credential_id).decode(), "isResidentCredential": False,
        "rpId": "localhost", "privateKey": base64.b64encode(pkcs8).decode(), "signCount": 0,
    }})
