"""Helpers for OIDC tests: people, clients, PKCE, and a browser-like walk through sign-in."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.oidc.clients import ClientService
from tests.signin_support import CODE_PATH, TERMS_PATH, signin_codes_sent, wait_for_signin_code

PASSWORD = "Correct-Horse-Battery-9"
REDIRECT_URI = "https://rp.example/callback"
POST_LOGOUT_URI = "https://rp.example/signed-out"


@dataclass
class RegisteredClient:
    client_id: str
    client_secret: str | None
    redirect_uri: str = REDIRECT_URI


def make_user(app, email: str = "zoe@example.ca", password: str = PASSWORD, **extra):
    with app.app_context():
        ctx = app_context()
        user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
            email, "Zoé", "Citoyenne", password, **extra)
        db.session.commit()
        return user.id


def make_client(app, **options) -> RegisteredClient:
    options.setdefault("name", "Portail de test")
    options.setdefault("redirect_uris", [REDIRECT_URI])
    options.setdefault("post_logout_redirect_uris", [POST_LOGOUT_URI])
    with app.app_context():
        ctx = app_context()
        client, secret = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(**options)
        db.session.commit()
        return RegisteredClient(client.client_id, secret, client.redirect_uris[0] if client.redirect_uris else "")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# Every client uses PKCE (checklist OIDC-03): authorization_params() sends this challenge by
# default, so a test redeems the code with this verifier unless it made its own pair.
PKCE_VERIFIER = "passerelle-tests-code-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
PKCE_CHALLENGE = s256(PKCE_VERIFIER)


def basic_auth(client: RegisteredClient) -> dict[str, str]:
    raw = f"{client.client_id}:{client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def authorization_params(client: RegisteredClient, **extra) -> dict[str, str]:
    """A valid authorization request, with PKCE (PKCE_CHALLENGE: redeem the code with
    PKCE_VERIFIER). A keyword overrides a parameter; None leaves it out."""
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "openid",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": PKCE_CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


class SignIn:
    """Walks the test client through /authorize and the sign-in pages like a browser."""

    def __init__(self, http):
        self.http = http

    def authorize(self, params: dict[str, str], email: str = "zoe@example.ca", password: str = PASSWORD,
                  consent: str | None = "allow", terms: str | None = "accept"):
        """Follow redirects until the response leaves the IdP; returns that response.

        On the way it signs in: the password, the code emailed to `email` (read from the
        test SMTP server), the terms (`terms`: "accept", "decline" or None to stop there)
        and consent.
        """
        codes_before = signin_codes_sent(email)
        response = self.http.get("/authorize?" + urlencode(params))
        return self.follow(response, email, password, consent=consent, terms=terms, codes_before=codes_before)

    def follow(self, response, email: str = "zoe@example.ca", password: str = PASSWORD, *,
               consent: str | None = "allow", terms: str | None = "accept", codes_before: int | None = None):
        """Walk the sign-in from `response` (a redirect to it) as authorize() does; returns
        the first answer that is neither a redirect nor a sign-in page."""
        if codes_before is None:
            codes_before = signin_codes_sent(email)
        for _ in range(12):
            location = response.headers.get("Location", "")
            if response.status_code not in (302, 303) or location.startswith("http") and not location.startswith("http://localhost"):
                return response
            path = urlsplit(location).path
            page = self.http.get(location)
            if path == "/signin" and page.status_code == 200:
                codes_before = signin_codes_sent(email)
                response = self.http.post("/signin", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)})
            elif path == CODE_PATH and page.status_code == 200:
                code = wait_for_signin_code(email, codes_before)
                response = self.http.post(CODE_PATH, data={"code": code, "csrf_token": csrf_token(page.text)})
            elif path == TERMS_PATH and page.status_code == 200 and terms:
                response = self.http.post(TERMS_PATH, data={"decision": terms, "csrf_token": csrf_token(page.text)})
            elif path == "/signin/consent" and page.status_code == 200 and consent:
                response = self.http.post("/signin/consent", data={"decision": consent, "csrf_token": csrf_token(page.text)})
            else:
                response = page
        raise AssertionError("too many redirects")

    def code_for(self, params: dict[str, str], **kwargs) -> dict[str, str]:
        response = self.authorize(params, **kwargs)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return query_of(response.headers["Location"])
