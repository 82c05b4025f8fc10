"""The institution portal in real Chromium, in French and English, axe-core on each of its
pages (issue 12, phase 1): a DLI's primary user chooses « Poursuivez vers Passerelle », signs
in at Passerelle with an authenticator app (two-factor, as the portal requires), accepts the
portal's terms, and the home page shows the institution and their role; then signs out
through Passerelle."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.support import finish_signin_steps
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.institution_portal_support import (
    add_authenticator_app,
    build_portal,
    register_portal,
    without_acr_values,
)
from tests.oidc_support import PASSWORD
from tests.orgs_access_support import PRIMARY_EMAIL, dli_with_members
from tests.signin_support import signin_codes_sent
from tests.support import LiveServer

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "signin_heading": "Accès au Portail pour les établissements d'enseignement désignés",
        "to_passerelle": "Poursuivez vers Passerelle",
        "app_code": "Code de l'application",
        "validate": "Valider le code",
        "terms": "Modalités du Portail",
        "accept": "J'accepte",
        "institution": "Collège Imaginaire",
        "role": "Utilisateur principal",
        "period": "Aucune période de déclaration n'est ouverte.",
        "sign_out": "Fermer la session",
        "signed_out": "Votre session au Portail est fermée",
        "help": "Aide",
        "sign_in_again": "Ouvrir une session de nouveau",
        "help_heading": "Aide sur le Portail",
        "refused_two_factor": "L'authentification à deux facteurs est obligatoire",
    },
    "en": {
        "signin_heading": "Access the Designated Learning Institutions Portal",
        "to_passerelle": "Continue to Passerelle",
        "app_code": "Code from the app",
        "validate": "Validate the code",
        "terms": "Terms of use of the portal",
        "accept": "I accept",
        "institution": "Imaginary College",
        "role": "Primary user",
        "period": "No reporting period is open.",
        "sign_out": "Sign out",
        "signed_out": "You are signed out of the portal",
        "help": "Help",
        "sign_in_again": "Sign in again",
        "help_heading": "Help with the portal",
        "refused_two_factor": "Two-factor authentication is required",
    },
}


@pytest.fixture
def portal(live_server, tmp_path) -> Iterator[LiveServer]:
    server = LiveServer()
    registration = register_portal(live_server.app, origin=server.url)
    server.start(build_portal(live_server.url, registration, tmp_path / "portal.db", origin=server.url))
    yield server
    server.stop()


def strip_acr_values(route) -> None:
    """The portal's redirect to Passerelle, with acr_values removed (redirects are not routed
    in Chromium, so the portal's answer is rewritten instead)."""
    if route.request.method != "POST":
        route.continue_()
        return
    response = route.fetch(max_redirects=0)
    headers = {**response.headers, "location": without_acr_values(response.headers["location"])}
    route.fulfill(response=response, headers=headers)


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_sign_in_with_two_factor_accept_the_terms_and_see_the_institution(browser, live_server, portal, clock, axe, locale):
    text = TEXT[locale]
    dli = dli_with_members(live_server.app, people=((PRIMARY_EMAIL, "primary"),))
    secret = add_authenticator_app(live_server.app, dli.members[PRIMARY_EMAIL], clock)
    context = browser.new_context(locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(portal.url + "/login")
        heading(page, text["signin_heading"])
        expect(page.locator("html")).to_have_attribute("lang", locale)
        axe.assert_accessible(page, f"portal sign-in ({locale})")
        page.get_by_role("button", name=text["to_passerelle"], exact=True).click()

        # At Passerelle: the password, then the authenticator app (two-factor).
        page.wait_for_url(live_server.url + "/**")
        signin = SIGNIN_TEXT[locale]
        page.get_by_label(signin["email"], exact=True).fill(PRIMARY_EMAIL)
        page.get_by_label(signin["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=signin["submit"], exact=True).click()
        page.get_by_label(text["app_code"], exact=True).fill(pyotp.TOTP(secret).at(clock()))
        page.get_by_role("button", name=text["validate"], exact=True).click()
        if page.url.startswith(live_server.url + "/signin/terms"):
            page.locator("button[name=decision][value=accept]").click()

        # Back at the portal: its own terms, then home.
        page.wait_for_url(portal.url + "/terms")
        heading(page, text["terms"])
        axe.assert_accessible(page, f"portal terms ({locale})")
        page.get_by_role("button", name=text["accept"], exact=True).click()
        page.wait_for_url(portal.url + "/")
        heading(page, text["institution"])
        expect(page.locator("#institution")).to_contain_text("O123456789012")
        expect(page.locator("#institution")).to_contain_text(text["role"])
        expect(page.locator("#reporting-period")).to_have_text(text["period"])
        axe.assert_accessible(page, f"portal home ({locale})")

        # Sign-out goes through Passerelle and comes back to the portal.
        page.get_by_role("button", name=text["sign_out"], exact=True).click()
        page.wait_for_url(portal.url + "/signed-out**")
        heading(page, text["signed_out"])
        axe.assert_accessible(page, f"portal signed out ({locale})")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_help_and_a_sign_in_below_two_factor_are_clear_accessible_pages(browser, live_server, portal, mailbox, axe, locale):
    """The browser strips acr_values from the authorization request; Passerelle then settles
    for the password and the emailed code, and the portal refuses, saying how to set up
    two-factor."""
    text = TEXT[locale]
    dli_with_members(live_server.app, people=((PRIMARY_EMAIL, "primary"),))
    context = browser.new_context(locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(portal.url + "/login")
        page.get_by_role("link", name=text["help"], exact=True).first.click()
        heading(page, text["help_heading"])
        axe.assert_accessible(page, f"portal help ({locale})")

        page.route(portal.url + "/login", strip_acr_values)
        page.goto(portal.url + "/login")
        page.get_by_role("button", name=text["to_passerelle"], exact=True).click()
        page.wait_for_url(live_server.url + "/**")
        signin = SIGNIN_TEXT[locale]
        codes_before = signin_codes_sent(PRIMARY_EMAIL)
        page.get_by_label(signin["email"], exact=True).fill(PRIMARY_EMAIL)
        page.get_by_label(signin["password"], exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=signin["submit"], exact=True).click()
        finish_signin_steps(page, locale, PRIMARY_EMAIL, codes_before)
        page.wait_for_url(portal.url + "/callback**")
        heading(page, text["refused_two_factor"])
        expect(page.get_by_role("link", name=text["sign_in_again"])).to_be_visible()
        axe.assert_accessible(page, f"portal two-factor refusal ({locale})")
    finally:
        context.close()
