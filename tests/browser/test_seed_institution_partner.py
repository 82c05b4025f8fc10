"""Seed 002, « Poursuivez vers un Partenaire de connexion », end to end in real Chromium,
French and English, axe-core on the pages on the way (docs/seeds.md): a DLI's primary user,
who has a Passerelle account with an authenticator app, links their bank (the sign-in
partner, a second live Passerelle dressed as `make run`'s demo bank) from their account;
then, in a fresh browser, chooses « Poursuivez vers un Partenaire de connexion » on the
institution portal's sign-in page, signs in at the bank with the same details they use
there, is asked by Passerelle for their app's code (the portal requires two-factor and the
bank's sign-in is below it), accepts the portal's terms and reaches its home as the
institution's primary user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import finish_signin_steps
from tests.browser.test_authorization import open_page
from tests.browser.test_institution_portal import TEXT as PORTAL_TEXT
from tests.browser.test_institution_portal import heading
from tests.browser.test_sign_in_partner import TEXT as PARTNER_TEXT
from tests.browser.test_sign_in_partner import federation, sign_in_at_the_partner  # noqa: F401 (fixture)
from tests.browser.test_signin import open_signin, submit_signin
from tests.institution_portal_support import (
    add_authenticator_app,
    build_portal,
    register_portal,
)
from tests.oidc_support import PASSWORD
from tests.orgs_access_support import PRIMARY_EMAIL, dli_with_members
from tests.signin_support import signin_codes_sent
from tests.support import LiveServer

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "partner_choice": "Poursuivez vers un Partenaire de connexion",
        "partners": "Partenaires de connexion",
        "link": "Lier Banque Imaginaire",
        "unlink": "Dissocier Banque Imaginaire",
    },
    "en": {
        "partner_choice": "Continue to a Sign-In Partner",
        "partners": "Sign-in partners",
        "link": "Link Imaginary Bank",
        "unlink": "Unlink Imaginary Bank",
    },
}


@pytest.fixture
def portal(federation, tmp_path) -> Iterator[LiveServer]:  # noqa: F811
    broker, _ = federation
    server = LiveServer()
    registration = register_portal(broker.app, origin=server.url)
    server.start(build_portal(broker.url, registration, tmp_path / "portal.db", origin=server.url))
    yield server
    server.stop()


def enter_the_app_code(page: Page, secret: str, clock, locale: str) -> None:
    """The app's next code (a code is accepted once: the clock moves on to the next one)."""
    clock.advance(seconds=30)
    page.get_by_label(PORTAL_TEXT[locale]["app_code"], exact=True).fill(pyotp.TOTP(secret).at(clock()))
    with page.expect_navigation():
        page.get_by_role("button", name=PORTAL_TEXT[locale]["validate"], exact=True).click()


def link_the_bank(browser, broker, secret: str, clock, axe, locale: str) -> None:
    """At Passerelle: sign in (password, second step), « Partenaires de connexion », link the bank."""
    text = TEXT[locale]
    page = open_page(browser, broker, f"{locale}-CA")
    try:
        open_signin(page, locale)
        codes_before = signin_codes_sent(PRIMARY_EMAIL)
        submit_signin(page, locale, PRIMARY_EMAIL, PASSWORD, finish=False)
        if urlsplit(page.url).path == "/signin/app":
            enter_the_app_code(page, secret, clock, locale)
        finish_signin_steps(page, locale, PRIMARY_EMAIL, codes_before)  # the emailed code, the terms
        page.goto("/account/partners")
        heading(page, text["partners"])
        axe.assert_accessible(page, f"sign-in partners of the primary user ({locale})")
        with page.expect_navigation():
            page.get_by_role("button", name=text["link"], exact=True).click()
        sign_in_at_the_partner(page, locale)
        page.wait_for_url(broker.url + "/account/partners")
        expect(page.get_by_role("button", name=text["unlink"], exact=True)).to_be_visible()
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_seed_002_a_dli_user_signs_in_to_the_portal_through_their_bank(browser, federation, portal, clock, axe,  # noqa: F811
                                                                        locale):
    broker, partner = federation
    text, portal_text = TEXT[locale], PORTAL_TEXT[locale]
    dli = dli_with_members(broker.app, people=((PRIMARY_EMAIL, "primary"),))
    secret = add_authenticator_app(broker.app, dli.members[PRIMARY_EMAIL], clock)
    link_the_bank(browser, broker, secret, clock, axe, locale)

    page = open_page(browser, broker, f"{locale}-CA")  # a fresh browser: no session anywhere
    try:
        page.goto(f"{portal.url}/lang/{locale}?next=/login")
        heading(page, portal_text["signin_heading"])
        page.get_by_role("button", name=text["partner_choice"], exact=True).click()

        # Passerelle opens on its sign-in partners (login_hint=partner), then the bank's own pages.
        expect(page).to_have_url(re.compile("^" + re.escape(broker.url) + r"/signin/partners$"))
        axe.assert_accessible(page, f"the sign-in partners, from the portal ({locale})")
        with page.expect_navigation():
            page.get_by_role("button", name=PARTNER_TEXT[locale]["bank"], exact=True).click()
        expect(page).to_have_url(re.compile("^" + re.escape(partner.issuer) + "/signin"))
        sign_in_at_the_partner(page, locale)

        # Back at Passerelle: the portal requires two-factor, the bank's sign-in is below it.
        page.wait_for_url(broker.url + "/signin/app**")
        axe.assert_accessible(page, f"the app's code after the bank ({locale})")
        enter_the_app_code(page, secret, clock, locale)

        page.wait_for_url(portal.url + "/terms")
        page.get_by_role("button", name=portal_text["accept"], exact=True).click()
        page.wait_for_url(portal.url + "/")
        heading(page, portal_text["institution"])
        expect(page.locator("#institution")).to_contain_text("O123456789012")
        expect(page.locator("#institution")).to_contain_text(portal_text["role"])
        axe.assert_accessible(page, f"portal home after the bank ({locale})")
    finally:
        page.context.close()
