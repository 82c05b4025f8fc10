"""A sign-in with a sign-in partner in Chromium, in both languages: relying party, Passerelle,
the partner (a second live Passerelle) and back (issue 5, Tests). axe-core checks the pages."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from idp.extensions import db
from tests.browser.support import RedirectReceiver, create_client, finish_signin_steps
from tests.browser.test_authorization import (
    authorization_url,
    open_page,
    wait_for_response,
    watch_csp,
)
from tests.browser.test_signin import submit_signin
from tests.conftest import build_app
from tests.federation_support import CUSTOMER_EMAIL, DEMO_BANK_BRANDING, start_partner, write_partners_file
from tests.oidc_support import PASSWORD
from tests.signin_support import signin_codes_sent
from tests.support import LiveServer

pytestmark = pytest.mark.browser
# --heading in idp/static/css/themes/banque-imaginaire.css, as Chromium reports it.
BANK_HEADING_RGB = "rgb(11, 81, 55)"

TEXT = {
    "fr": {
        "choose": "Ouvrir une session avec un partenaire de connexion",
        "title": "Ouvrir une session avec un partenaire de connexion – Passerelle",
        "problem": "Cette ouverture de session a expiré ou a déjà servi",
        "allow": "Autoriser",
        "bank": "Banque Imaginaire",
    },
    "en": {
        "choose": "Sign in with a sign-in partner",
        "title": "Sign in with a sign-in partner – Passerelle",
        "problem": "This sign-in has expired or was already used",
        "allow": "Allow",
        "bank": "Imaginary Bank",
    },
}


@pytest.fixture
def federation(tmp_path, database_uri, clock) -> Iterator[tuple[LiveServer, object]]:
    """Passerelle live on 127.0.0.1 with a live partner on localhost (its own cookies),
    dressed as `make run`'s demo bank (its name, theme and switches)."""
    broker = LiveServer()
    partner = start_partner(tmp_path, clock, callback_uri=broker.url + "/signin/partners/callback", host="localhost",
                            **DEMO_BANK_BRANDING)
    path = write_partners_file(tmp_path / "partners.toml", partner)
    app = build_app(database_uri, clock, issuer=broker.url, PARTNERS_FILE=str(path))
    broker.start(app)
    yield broker, partner
    broker.stop()
    partner.server.stop()
    for each in (app, partner.app):
        with each.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def receiver() -> Iterator[RedirectReceiver]:
    receiver = RedirectReceiver().start()
    yield receiver
    receiver.stop()


def sign_in_at_the_partner(page: Page, locale: str) -> None:
    """On the partner's pages: password, emailed code, its terms, its consent if asked."""
    codes_before = signin_codes_sent(CUSTOMER_EMAIL)
    submit_signin(page, locale, CUSTOMER_EMAIL, PASSWORD, finish=False)
    finish_signin_steps(page, locale, CUSTOMER_EMAIL, codes_before)
    if urlsplit(page.url).path == "/signin/consent":
        with page.expect_navigation():
            page.get_by_role("button", name=TEXT[locale]["allow"], exact=True).click()


def sign_in_through_the_partner(browser, broker, partner, receiver, axe, client_id: str, locale: str) -> dict[str, str]:
    """One sign-in in a fresh profile (no session at Passerelle or at the partner): relying
    party, Passerelle, the partner's pages (the demo bank's, not Passerelle's), and back to
    the relying party. Returns the authorization response; fails on any CSP report in the
    console. axe-core checks Passerelle's partner list and the partner's sign-in page."""
    page = open_page(browser, broker, f"{locale}-CA")
    blocked = watch_csp(page)
    try:
        state = secrets.token_urlsafe(16)
        page.goto(authorization_url(client_id, receiver.url, state=state, ui_locales=locale))
        page.get_by_role("link", name=TEXT[locale]["choose"], exact=True).click()

        expect(page).to_have_url(re.compile(r"/signin/partners$"))
        expect(page).to_have_title(TEXT[locale]["title"])
        expect(page.locator("html")).to_have_attribute("lang", locale)
        axe.assert_accessible(page, f"the sign-in partners page ({locale})")
        with page.expect_navigation():
            page.get_by_role("button", name=TEXT[locale]["bank"], exact=True).click()
        expect(page).to_have_url(re.compile("^" + re.escape(partner.issuer) + "/signin"))
        # The bank, not Passerelle: its name, its colours (issue 9 #14), still accessible.
        bank_name = DEMO_BANK_BRANDING["SERVICE_NAME"]
        expect(page).to_have_title(re.compile(f" – {bank_name}$"))
        expect(page.locator(".site-header__brand")).to_have_text(bank_name)
        expect(page.locator(".site-header__brand")).to_have_css("color", BANK_HEADING_RGB)
        axe.assert_accessible(page, f"the partner's sign-in page ({locale})")
        sign_in_at_the_partner(page, locale)
        # Back at Passerelle: a new account accepts the terms, then on to the relying party.
        finish_signin_steps(page, locale, CUSTOMER_EMAIL, signin_codes_sent(CUSTOMER_EMAIL))

        response = wait_for_response(receiver, page, blocked)
        assert response["state"] == state and response["code"], response
        assert response["iss"] == broker.url
        assert not blocked, f"Chromium's CSP reports: {blocked}"
        receiver.forget()
        return response
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_refused_answer_is_an_accessible_page_with_the_choices(browser, federation, axe, locale):
    broker, _ = federation
    page = open_page(browser, broker, f"{locale}-CA")
    try:
        page.goto("/signin/partners/callback?state=forged&code=x")
        expect(page.get_by_role("heading", level=1)).to_have_text(TEXT[locale]["problem"])
        expect(page.get_by_role("link", name=TEXT[locale]["choose"].replace("Ouvrir une session avec un", "Choisir un")
                                .replace("Sign in with a sign-in partner", "Choose a sign-in partner"), exact=True)).to_be_visible()
        axe.assert_accessible(page, f"the sign-in partner refusal page ({locale})")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_new_then_returning_partner_customer_lands_on_the_relying_party(browser, federation, receiver, axe, locale):
    """A first sign-in through the partner creates and links an account (with Passerelle's
    terms on the way); the second goes from the partner's last POST (its code page) through
    Passerelle's callback straight on to the relying party, which no page's form-action may
    stop (issue 9 #13)."""
    broker, partner = federation
    client_id, _ = create_client(broker.app, receiver.url)
    first = sign_in_through_the_partner(browser, broker, partner, receiver, axe, client_id, locale)

    again = sign_in_through_the_partner(browser, broker, partner, receiver, axe, client_id, locale)
    assert again["code"] != first["code"]
