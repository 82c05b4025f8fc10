"""Sign-in partners in tests: a second Passerelle on loopback as the partner (design.md,
Testing), the broker configured to use it, and a browser walk through both."""

from __future__ import annotations

import base64
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

from tests.oidc_support import SignIn, csrf_token, make_client, make_user, query_of

# What makes the demo bank look like itself rather than Passerelle (issue 9 #14), from its
# own settings file: a partner started with these looks and behaves like `make run`'s bank.
DEMO_BANK_CONFIG = tomllib.loads((Path(__file__).resolve().parent.parent / "config" / "banque-imaginaire.toml").read_text(encoding="utf-8"))
DEMO_BANK_BRANDING = {
    key: DEMO_BANK_CONFIG[key]
    for key in ("SERVICE_NAME", "THEME_STYLESHEET", "THEME_EMAIL_COLOUR", "REGISTRATION_ENABLED", "PARTNERS_ENABLED", "MAIL_FROM")
}
BROKER_ISSUER = "http://127.0.0.1:5000"
CALLBACK_URI = BROKER_ISSUER + "/signin/partners/callback"
CUSTOMER_EMAIL = "client@banque.example"
PARTNER_ID = "banque"


@dataclass
class PartnerOP:
    """A live Passerelle acting as the bank, with Passerelle registered as its client."""

    server: object
    app: object
    client_id: str
    client_secret: str
    requests_seen: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return self.server.url


def write_partners_file(path: Path, partner: PartnerOP, **extra: str) -> Path:
    lines = [
        f"[partners.{PARTNER_ID}]",
        'names = { fr = "Banque Imaginaire", en = "Imaginary Bank" }',
        f'issuer = "{partner.issuer}"',
        f'client_id = "{partner.client_id}"',
        f'client_secret = "{partner.client_secret}"',
        *(f"{key} = {value}" for key, value in extra.items()),
        f"[partners.{PARTNER_ID}.acr_map]",
        '"urn:passerelle:acr:mfa" = "urn:passerelle:acr:mfa"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_partner(tmp_path: Path, clock, callback_uri: str = CALLBACK_URI, host: str = "127.0.0.1", **settings) -> PartnerOP:
    """host "localhost" gives the partner its own cookies in a browser that also visits the
    broker on 127.0.0.1 (cookies ignore ports)."""
    from tests.conftest import build_app
    from tests.support import LiveServer

    server = LiveServer()
    server.url = f"http://{host}:{server.port}"
    settings.setdefault("MFA_REQUIRED", False)
    app = build_app(f"sqlite:///{tmp_path / 'partner.sqlite3'}", clock, issuer=server.url, **settings)
    server.start(app)
    registered = make_client(app, name="Passerelle", redirect_uris=[callback_uri])
    make_user(app, email=CUSTOMER_EMAIL)
    return PartnerOP(server, app, registered.client_id, registered.client_secret)


class TamperingSession(requests.Session):
    """The broker's back channel to the partner, with a hook that may rewrite the token
    response on its way (a thin tampering proxy): tamper(body) returns the new body."""

    def __init__(self, tamper=None):
        super().__init__()
        self.tamper = tamper

    def post(self, url, *args, **kwargs):
        response = super().post(url, *args, **kwargs)
        if self.tamper is not None and response.status_code == 200:
            body = self.tamper(response.json())
            response._content = json.dumps(body).encode()
        return response


def resign(partner: PartnerOP, id_token: str, **changes) -> str:
    """The ID token with these claims changed (None removes one), signed again with the
    partner's real current key: only the claims are wrong, never the signature."""
    from joserfc import jwt

    from idp.context import app_context
    from idp.extensions import db
    from idp.oidc.keys import KeyService

    payload = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "==="))
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "==="))
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    with partner.app.app_context():
        ctx = app_context()
        keys = KeyService(db.session, ctx.settings, ctx.clock, ctx.secret_box).load_active()
        kid, key = keys.signing[header["alg"]]
    return jwt.encode({"alg": header["alg"], "kid": kid}, payload, key)


def leave_for_partner(http, partner_id: str = PARTNER_ID):
    """From the broker's sign-in page: choose the partner. Returns the 303 to the partner."""
    page = http.get("/signin/partners")
    assert page.status_code == 200, page.status_code
    return http.post(f"/signin/partners/{partner_id}", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def sign_in_at_partner(partner: PartnerOP, authorize_url: str) -> str:
    """Sign in at the partner as its customer (in the partner's own browser, its test
    client); returns where the partner sends the browser back (the broker's callback)."""
    parts = urlsplit(authorize_url)
    assert f"{parts.scheme}://{parts.netloc}" == partner.issuer
    partner.requests_seen.append(authorize_url)
    response = SignIn(partner.app.test_client()).authorize(query_of(authorize_url), email=CUSTOMER_EMAIL)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def back_at_broker(http, location: str):
    """Follow the partner's redirect to the broker's callback in the broker's browser."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK_URI
    return http.get(parts.path + "?" + parts.query)


def callback_with(http, **params):
    return http.get("/signin/partners/callback?" + urlencode(params))


def federation_template_contexts() -> dict:
    """Contexts for the federation templates, for the every-template test."""
    from idp.federation.errors import PartnerUnavailable
    from idp.federation.views import ERROR_MESSAGES, PartnerForm

    from flask_babel import get_locale

    from idp.web.text import EMAIL_TEXT

    def email(**extra):
        return lambda: {
            "issuer": "http://127.0.0.1:5000", "help_url": "http://127.0.0.1:5000/help",
            "locale": str(get_locale()), "email_text": EMAIL_TEXT, "given_name": "Ana", **extra,
        }

    changed = email(change="linked", changed_at="2026-12-03T19:00:00+00:00",
                    partner_names={"fr": "Banque Imaginaire", "en": "Imaginary Bank"})
    return {
        **{f"email/partner-changed/{name}": changed for name in ("subject.txt", "body.txt", "body.html", "what.txt")},
        "federation/partners.html": lambda: {"partners": [("banque", "Banque Imaginaire")], "form": PartnerForm()},
        "federation/manage.html": lambda: {
            "linked": [(1, "Banque Imaginaire")], "linkable": [("caisse", "Caisse Imaginaire")], "form": PartnerForm(),
            "notices": ["Linked."],
        },
        "federation/problem.html": lambda: {
            "title": ERROR_MESSAGES[PartnerUnavailable][0], "message": ERROR_MESSAGES[PartnerUnavailable][1],
        },
    }


def sign_in_locally(http, email: str):
    """Sign in to Passerelle's own pages with the password and emailed code; returns the
    account page."""
    from tests.oidc_support import PASSWORD
    from tests.signin_support import (
        CODE_PATH,
        TERMS_PATH,
        signin_codes_sent,
        wait_for_signin_code,
    )

    response = http.get("/account")
    codes_before = signin_codes_sent(email)
    for _ in range(12):
        if response.status_code != 303:
            return response
        location = response.headers["Location"]
        path = urlsplit(location).path
        page = http.get(location)
        token = csrf_token(page.get_data(as_text=True)) if page.status_code == 200 and path != "/account" else None
        if path == "/signin" and token:
            codes_before = signin_codes_sent(email)
            response = http.post("/signin", data={"email": email, "password": PASSWORD, "csrf_token": token})
        elif path == CODE_PATH and token:
            response = http.post(CODE_PATH, data={"code": wait_for_signin_code(email, codes_before), "csrf_token": token})
        elif path == TERMS_PATH and token:
            response = http.post(TERMS_PATH, data={"decision": "accept", "csrf_token": token})
        else:
            response = page
    raise AssertionError("too many redirects")
