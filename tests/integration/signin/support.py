"""Helpers for the sign-in and account tests: people, clients, and a browser that signs in
(design.md, Tests: `SignIn(client)` is the action helper, like flaskr's AuthActions)."""

from __future__ import annotations

import re

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.oidc.models import Client
from idp.signin import current
from tests.signin_support import CODE_PATH, SECOND_FACTOR_PATH, TERMS_PATH, signin_codes_sent, wait_for_signin_code

PASSWORD = "correct horse battery staple"


def make_user(app, email: str = "ana@example.ca", password: str = PASSWORD, **extra) -> int:
    extra.setdefault("given_name", "Ana")
    extra.setdefault("family_name", "Tremblay")
    with app.app_context():
        ctx = app_context()
        accounts = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)
        user = accounts.create_user(email, extra.pop("given_name"), extra.pop("family_name"), password, **extra)
        db.session.commit()
        return user.id


def make_client(app, client_id: str = "portal", name: str = "Portail de documents", **extra) -> str:
    """A client row as the consent page reads it (name, require_consent)."""
    with app.app_context():
        db.session.add(
            Client(
                client_id=client_id,
                name=name,
                redirect_uris=["https://rp.example/callback"],
                grant_types=["authorization_code"],
                scope="openid profile email",
                token_endpoint_auth_method="client_secret_basic",
                sector_identifier="rp.example",
                **extra,
            )
        )
        db.session.commit()
    return client_id


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def cookie_value(test_client, name: str) -> str | None:
    cookie = test_client.get_cookie(name)
    return cookie.value if cookie is not None else None


def begin(app, test_client, **options):
    """Call begin_signin() as the OIDC endpoints do, then hand its cookies to the browser."""
    arguments = dict(
        authorization_request=None, client_id=None, return_to=None, prompt=None, max_age=None,
        login_hint=None, requested_acr=None, ui_locale=None, session=None, force_login=False,
        needs_consent=False,
    )
    arguments.update(options)
    with in_browser_request(app, test_client, "/authorize"):
        response = current.begin_signin(**arguments)
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        test_client.set_cookie(name, rest.split(";")[0])
    return response


def in_browser_request(app, test_client, path: str = "/authorize/resume"):
    """A request context carrying the browser's cookies, to call the contract functions."""
    names = ("passerelle_signin", "passerelle_session", "passerelle_csrf", "passerelle_lang")
    header = "; ".join(f"{name}={cookie_value(test_client, name)}" for name in names if cookie_value(test_client, name))
    return app.test_request_context(path, headers={"Cookie": header})


class SignIn:
    """Drives the sign-in pages like a person would."""

    def __init__(self, test_client, locale: str = "en"):
        self.client = test_client
        # Tests read English text; the French pages are checked by the catalog tests.
        test_client.set_cookie("passerelle_lang", locale)

    def start(self, path: str = "/account"):
        """Visit a page that needs a session; returns the sign-in page response."""
        response = self.client.get(path)
        assert response.status_code == 303
        return self.client.get(response.headers["Location"])

    def submit_password(self, email: str = "ana@example.ca", password: str = PASSWORD, page=None):
        """Only the password page; returns its answer (303 to the next step, or 422)."""
        page = page or self.client.get("/signin")
        return self.client.post(
            "/signin", data={"csrf_token": csrf_token(page.text), "email": email, "password": password}
        )

    def submit(self, email: str = "ana@example.ca", password: str = PASSWORD, page=None, accept_terms: bool = True):
        """The password, then the steps it leads to: the emailed code (read from the SMTP
        mailbox) and the terms when asked. Returns the answer that leaves those steps, or
        the first page that did not go on (an error, a page the test must look at)."""
        sent = signin_codes_sent(email)
        response = self.submit_password(email, password, page)
        return self.finish_steps(response, email, sent, accept_terms=accept_terms)

    def finish_steps(self, response, email: str = "ana@example.ca", codes_before: int | None = None,
                     accept_terms: bool = True):
        """Follow a step's answer through the second factor and the terms steps."""
        sent = signin_codes_sent(email) if codes_before is None else codes_before
        for _ in range(6):
            location = response.headers.get("Location", "") if response.status_code in (302, 303) else ""
            if location == SECOND_FACTOR_PATH:
                response = self.client.get(location)
            elif location == CODE_PATH:
                page = self.client.get(CODE_PATH)
                code = wait_for_signin_code(email, sent)
                response = self.client.post(CODE_PATH, data={"csrf_token": csrf_token(page.text), "code": code})
            elif location == TERMS_PATH and accept_terms:
                page = self.client.get(TERMS_PATH)
                if page.status_code != 200:
                    return page
                response = self.client.post(TERMS_PATH, data={"csrf_token": csrf_token(page.text), "decision": "accept"})
            else:
                return response
        return response

    def sign_in(self, email: str = "ana@example.ca", password: str = PASSWORD):
        response = self.submit(email, password, self.start())
        assert response.status_code == 303, response.text
        return response

    @property
    def session_handle(self) -> str | None:
        return cookie_value(self.client, "passerelle_session")

    def sign_out(self):
        page = self.client.get("/signout")
        return self.client.post("/signout", data={"csrf_token": csrf_token(page.text)})

