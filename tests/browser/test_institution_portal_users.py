"""Issue 12's browser journey, in real Chromium, in French and English, axe-core on each
portal page: the DLI's primary user signs in to the institution portal (two-factor), opens
the users page, « Créer un compte pour un utilisateur d'un EED » → « Nouvelle requête »; the
invited person registers at Passerelle with the emailed code (seed 001), signs in to the
portal with two-factor, accepts its terms, and reaches the portal's home as a secondary user
of the institution, with the letters of acceptance to verify."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_institution_portal import TEXT as PORTAL_TEXT
from tests.browser.test_organizations import register_and_sign_in
from tests.browser.test_registration_journeys import speak
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.institution_portal_api_support import attach, register_api_portal
from tests.institution_portal_support import add_authenticator_app, build_portal
from tests.oidc_support import PASSWORD
from tests.orgs_access_support import PRIMARY_EMAIL, dli_with_members
from tests.support import LiveServer

pytestmark = pytest.mark.browser

NEWCOMER = "lou.secondaire@example.ca"
TEXT = {
    "fr": {
        "manage_users": "Gérer les utilisateurs de votre établissement",
        "users": "Utilisateurs de votre établissement",
        "create": "Créer un compte pour un utilisateur d'un établissement d'enseignement désigné",
        "email": "Adresse courriel de l'utilisateur",
        "new_request": "Nouvelle requête",
        "sent": f"Invitation envoyée à {NEWCOMER}.",
        "pending": "En attente jusqu'au",
        "secondary": "Utilisateur secondaire",
        "letters": "Lettres d'acceptation à vérifier",
    },
    "en": {
        "manage_users": "Manage the users of your institution",
        "users": "Users of your institution",
        "create": "Create an account for a user of a designated learning institution",
        "email": "Email address of the user",
        "new_request": "New request",
        "sent": f"Invitation sent to {NEWCOMER}.",
        "pending": "Pending until",
        "secondary": "Secondary user",
        "letters": "Letters of acceptance to verify",
    },
}


@pytest.fixture
def world(live_server, tmp_path) -> Iterator[tuple[LiveServer, object]]:
    dli = dli_with_members(live_server.app, people=((PRIMARY_EMAIL, "primary"),))
    server = LiveServer()
    registration = register_api_portal(live_server.app, origin=server.url)
    attach(live_server.app, dli.id, registration.client_id)
    server.start(build_portal(live_server.url, registration, tmp_path / "portal.db", origin=server.url))
    yield server, dli
    server.stop()


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def sign_in_to_the_portal(page: Page, portal: LiveServer, live_server, locale: str, secret: str, clock,
                          email: str | None = None) -> None:
    """« Poursuivez vers Passerelle »; at Passerelle the password when asked (a person already
    signed in there is only asked for the second factor), then the authenticator app."""
    text, signin = PORTAL_TEXT[locale], SIGNIN_TEXT[locale]
    page.goto(f"{portal.url}/lang/{locale}?next=/login")  # the portal's own language toggle
    page.get_by_role("button", name=text["to_passerelle"], exact=True).click()
    page.wait_for_url(live_server.url + "/**")
    if email is not None:
        page.get_by_label(signin["email"], exact=True).fill(email)
        page.get_by_label(signin["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=signin["submit"], exact=True).click()
    page.get_by_label(text["app_code"], exact=True).fill(pyotp.TOTP(secret).at(clock()))
    page.get_by_role("button", name=text["validate"], exact=True).click()
    if page.url.startswith(live_server.url + "/signin/terms"):
        page.locator("button[name=decision][value=accept]").click()
    page.wait_for_url(portal.url + "/terms")
    page.get_by_role("button", name=text["accept"], exact=True).click()
    page.wait_for_url(portal.url + "/")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_primary_user_invites_a_secondary_user_who_registers_and_reaches_the_portal(
        browser, live_server, world, clock, mailbox, axe, locale):
    portal, dli = world
    text, portal_text = TEXT[locale], PORTAL_TEXT[locale]
    primary_secret = add_authenticator_app(live_server.app, dli.members[PRIMARY_EMAIL], clock)

    # The primary user: sign in, the users page, « Créer un compte … » → « Nouvelle requête ».
    context = browser.new_context(locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_to_the_portal(page, portal, live_server, locale, primary_secret, clock, email=PRIMARY_EMAIL)
        heading(page, portal_text["institution"])
        page.get_by_role("link", name=text["manage_users"]).click()
        heading(page, text["users"])
        expect(page.locator("#members")).to_contain_text(PRIMARY_EMAIL)
        axe.assert_accessible(page, f"portal users ({locale})")
        page.get_by_role("link", name=text["create"], exact=True).click()
        heading(page, text["create"])
        axe.assert_accessible(page, f"portal create an account ({locale})")
        page.get_by_label(text["email"], exact=True).fill(NEWCOMER)
        page.get_by_role("button", name=text["new_request"], exact=True).click()
        page.wait_for_url(portal.url + "/users")
        expect(page.get_by_role("status")).to_contain_text(text["sent"])
        expect(page.locator("#invitations")).to_contain_text(NEWCOMER)
        expect(page.locator("#invitations")).to_contain_text(text["pending"])
        axe.assert_accessible(page, f"portal users after the invitation ({locale})")
    finally:
        context.close()

    # The invited person registers at Passerelle with the emailed code, in their own browser.
    context = browser.new_context(base_url=live_server.url, locale="en-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        speak(page, live_server, locale)
        register_and_sign_in(page, mailbox, axe, locale, NEWCOMER, "Lou")
        # They set up an authenticator app at Passerelle (its own journey, tests/browser/test_two_factor.py).
        with live_server.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == NEWCOMER))
        secret = add_authenticator_app(live_server.app, user_id, clock)

        # The portal: two-factor (already signed in at Passerelle), its terms, home.
        sign_in_to_the_portal(page, portal, live_server, locale, secret, clock)
        heading(page, portal_text["institution"])
        expect(page.locator("#institution")).to_contain_text(text["secondary"])
        expect(page.get_by_role("link", name=text["manage_users"])).to_have_count(0)
        expect(page.get_by_role("heading", name=text["letters"])).to_be_visible()
        axe.assert_accessible(page, f"portal home of the new secondary user ({locale})")
    finally:
        context.close()
