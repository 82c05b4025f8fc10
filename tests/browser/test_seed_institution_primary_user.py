"""Seeds 001 and 002 as one journey, in real Chromium, French and English, axe-core on every
page (docs/seeds.md): the ministry's operator creates the DLI with its primary contact's
address → the emailed invitation code → « S'inscrire » with the code, phone and password →
« Confirmez l'inscription » with the emailed verification code → the portal's sign-in page,
« Poursuivez vers Passerelle » → email and password → the emailed code (« dans les 3
minutes », « Valider le code », « Demander un nouveau code ») → two-factor set up at this
first sign-in, in the browser (the authenticator app, the recovery codes) → the app's next
code (the portal requires two-factor, and the code that confirmed the app does not count as
using it) → the portal's terms → the portal's home as the institution's primary user.

Nothing here is set up behind the browser's back except the DLI (by the operator's command)
and the portal's registration: the person's account, their two-factor and their terms are
all made through the pages, with two-factor required as in production (MFA_REQUIRED).
"""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_institution_portal import TEXT as PORTAL_TEXT
from tests.browser.test_institution_portal import heading, portal  # noqa: F401 (fixture)
from tests.browser.test_organizations import create_dli
from tests.browser.test_registration_journeys import TEXT as REGISTRATION_TEXT
from tests.browser.test_registration_journeys import (
    check_page,
    set_password,
    solve_robot,
    speak,
)
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.browser.test_two_factor import TEXT as TWO_FACTOR_TEXT
from tests.browser.test_two_factor import set_up_app
from tests.integration.registration.support import PASSWORD, invitation_code
from tests.mail_support import code_in
from tests.signin_support import signin_codes_sent, wait_for_signin_code

pytestmark = [pytest.mark.browser, pytest.mark.settings(MFA_REQUIRED=True)]

PRIMARY = "pat.primaire@example.ca"
MAIL_TIMEOUT = 30
TEXT = {
    "fr": {
        "within": "dans les 3 minutes",
        "validate": "Valider le code",
        "new_code": "Demander un nouveau code",
        "partner_choice": "Poursuivez vers un Partenaire de connexion",
        "not_shared": "Aucun de vos renseignements ne sera divulgué",
    },
    "en": {
        "within": "within 3 minutes",
        "validate": "Validate the code",
        "new_code": "Request a new code",
        "partner_choice": "Continue to a Sign-In Partner",
        "not_shared": "None of your information will be shared",
    },
}


def register_with_the_code(page: Page, mailbox, axe, locale: str) -> None:
    """Seed 001, « Créer un compte »: the code, the address it was sent to, names, phone,
    password; then « Confirmez l'inscription » with the second email's code."""
    text = REGISTRATION_TEXT[locale]
    code = invitation_code(mailbox.wait_for(PRIMARY, timeout=MAIL_TIMEOUT))
    page.goto("/signin")
    page.get_by_role("link", name=text["register_link"], exact=True).click()
    check_page(page, axe, text["code_heading"], f"the code form of the primary user ({locale})")
    page.get_by_label(text["invitation_code"], exact=True).fill(code)
    page.get_by_label(text["email"], exact=True).fill(PRIMARY)
    page.get_by_label(text["given_name"], exact=True).fill("Pat")
    page.get_by_label(text["family_name"], exact=True).fill("Primaire")
    page.get_by_label(text["phone"], exact=True).fill("514 555-0123")
    set_password(page, text)
    solve_robot(page, text)
    page.get_by_label(text["consent"]).check()
    page.get_by_role("button", name=text["register"], exact=True).click()
    check_page(page, axe, text["confirm_heading"], f"confirm the primary user's registration ({locale})")
    verification = mailbox.wait_for(PRIMARY, count=2, timeout=MAIL_TIMEOUT)
    page.get_by_label(text["verification_code"], exact=True).fill(code_in(verification))
    page.get_by_role("button", name=text["confirm"], exact=True).click()
    check_page(page, axe, text["ready"], f"the primary user's account is ready ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_seed_001_002_the_invited_primary_user_registers_sets_up_two_factor_and_reaches_the_portal(
        browser, live_server, portal, mailbox, clock, axe, locale):  # noqa: F811
    text, portal_text, signin = TEXT[locale], PORTAL_TEXT[locale], SIGNIN_TEXT[locale]
    create_dli(live_server.app, locale)  # the operator: `idp orgs create --primary-email …`
    context = browser.new_context(base_url=live_server.url, locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        speak(page, live_server, locale)
        register_with_the_code(page, mailbox, axe, locale)

        # Seed 002: the portal's sign-in page and its two choices.
        page.goto(f"{portal.url}/lang/{locale}?next=/login")
        heading(page, portal_text["signin_heading"])
        expect(page.get_by_role("button", name=text["partner_choice"], exact=True)).to_be_visible()
        expect(page.locator("main")).to_contain_text(text["not_shared"])
        axe.assert_accessible(page, f"portal sign-in for the new primary user ({locale})")
        page.get_by_role("button", name=portal_text["to_passerelle"], exact=True).click()

        # Seed 001, « Se connecter »: email and password, then the emailed code.
        page.wait_for_url(live_server.url + "/**")
        codes_before = signin_codes_sent(PRIMARY)
        page.get_by_label(signin["email"], exact=True).fill(PRIMARY)
        page.get_by_label(signin["password"], exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=signin["submit"], exact=True).click()
        page.wait_for_url(live_server.url + "/signin/code")
        expect(page.locator("main")).to_contain_text(text["within"])
        expect(page.get_by_role("button", name=text["new_code"], exact=True)).to_be_visible()
        axe.assert_accessible(page, f"the emailed code at the first sign-in ({locale})")
        page.locator("input[name=code]").fill(wait_for_signin_code(PRIMARY, codes_before, timeout=MAIL_TIMEOUT))
        with page.expect_navigation():
            page.get_by_role("button", name=text["validate"], exact=True).click()

        # Seed 002: two-factor is required; set up here, in the browser, at this first sign-in.
        two_factor = TWO_FACTOR_TEXT[locale]
        secret, _codes = set_up_app(page, axe, clock, two_factor, f"the primary user at the portal ({locale})")
        # The portal requires two-factor: the code that confirmed the app proves the app works,
        # not that the person held it before (idp/mfa/setup_views.py), so Passerelle asks for
        # the app's next code.
        heading(page, two_factor["app_heading"])
        axe.assert_accessible(page, f"the app's code right after setting it up ({locale})")
        clock.advance(seconds=30)
        page.get_by_label(two_factor["app_code"], exact=True).fill(pyotp.TOTP(secret).at(clock()))
        page.get_by_role("button", name=two_factor["validate"], exact=True).click()

        # Back at the portal: its terms (seed 001, last step), then home as the primary user.
        page.wait_for_url(portal.url + "/terms")
        heading(page, portal_text["terms"])
        axe.assert_accessible(page, f"portal terms for the new primary user ({locale})")
        page.get_by_role("button", name=portal_text["accept"], exact=True).click()
        page.wait_for_url(portal.url + "/")
        heading(page, portal_text["institution"])
        expect(page.locator("#institution")).to_contain_text("O123456789012")
        expect(page.locator("#institution")).to_contain_text(portal_text["role"])
        axe.assert_accessible(page, f"portal home of the new primary user ({locale})")
    finally:
        context.close()
