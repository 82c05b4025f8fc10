"""Seed 001's institution in real Chromium, in French and English, axe-core on every page
(issue 11, phase 2b): the operator creates a DLI (`idp orgs create`) → its primary user
registers with the emailed code and signs in → on the account home, « Créer un compte pour
un utilisateur d'un EED », « Nouvelle requête » → the secondary user registers, signs in and
sees the organization and their role, nothing to manage → the primary user asks to remove
the secondary user, and sees the request waiting for a decision.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from idp.cli import main
from tests.browser.test_registration_journeys import TEXT as REGISTRATION_TEXT
from tests.browser.test_registration_journeys import check_page, set_password, solve_robot, speak
from tests.integration.registration.support import PASSWORD, invitation_code
from tests.mail_support import code_in

pytestmark = pytest.mark.browser

PRIMARY, SECONDARY = "pat.primaire@example.ca", "sam.secondaire@example.ca"
MAIL_TIMEOUT = 30
TEXT = {
    "fr": {
        "organization": "Collège Imaginaire",
        "your_organization": "Votre organisation",
        "primary": "Utilisateur principal",
        "secondary": "Utilisateur secondaire",
        "manage_link": "Gérer les utilisateurs et les demandes de votre organisation",
        "manage": "Gérer votre organisation",
        "invite": "Créer un compte pour un utilisateur d'un EED",
        "email": "Adresse courriel de l'utilisateur",
        "new_request": "Nouvelle requête",
        "bad_address": "Entrez une adresse courriel, comme nom@exemple.ca.",
        "sent": f"Nous avons envoyé un code d'invitation à {SECONDARY}.",
        "secondary_manages": "L'utilisateur principal de votre organisation gère ses utilisateurs.",
        "ask_to_remove": "Demander de supprimer",
        "remove": "Demander de supprimer un utilisateur secondaire",
        "reason": "Raison de la demande",
        "send": "Envoyer la demande",
        "requests": "Les demandes de votre organisation",
        "waiting": "En attente d'une décision",
    },
    "en": {
        "organization": "Imaginary College",
        "your_organization": "Your organization",
        "primary": "Primary user",
        "secondary": "Secondary user",
        "manage_link": "Manage your organization's users and requests",
        "manage": "Manage your organization",
        "invite": "Create an account for a user of the institution",
        "email": "Email address of the user",
        "new_request": "New request",
        "bad_address": "Enter an email address, like name@example.ca.",
        "sent": f"We sent an invitation code to {SECONDARY}.",
        "secondary_manages": "Your organization's primary user manages its users.",
        "ask_to_remove": "Ask to remove",
        "remove": "Ask to remove a secondary user",
        "reason": "Reason for the request",
        "send": "Send the request",
        "requests": "Your organization's requests",
        "waiting": "Waiting for a decision",
    },
}


def create_dli(app, locale: str) -> dict:
    """The operator's command, as in docs/operators.md (Organizations)."""
    result = CliRunner().invoke(main, [
        "orgs", "create", "--kind", "dli", "--number", "O123456789012", "--name-fr", "Collège Imaginaire",
        "--name-en", "Imaginary College", "--primary-email", PRIMARY, "--locale", locale, "--json",
    ], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def register_and_sign_in(page: Page, mailbox, axe, locale: str, email: str, given_name: str) -> None:
    """Seed 001's code journey, from the invitation email to the account home."""
    text = REGISTRATION_TEXT[locale]
    code = invitation_code(mailbox.wait_for(email, timeout=MAIL_TIMEOUT))
    page.goto("/register/code")
    page.get_by_label(text["invitation_code"], exact=True).fill(code)
    page.get_by_label(text["email"], exact=True).fill(email)
    page.get_by_label(text["given_name"], exact=True).fill(given_name)
    page.get_by_label(text["family_name"], exact=True).fill("Tremblay")
    page.get_by_label(text["phone"], exact=True).fill("514 555-0123")
    set_password(page, text)
    solve_robot(page, text)
    page.get_by_label(text["consent"]).check()
    page.get_by_role("button", name=text["register"], exact=True).click()
    check_page(page, axe, text["confirm_heading"], f"confirm the registration of {email} ({locale})")
    page.get_by_label(text["verification_code"], exact=True).fill(code_in(mailbox.wait_for(email, count=2, timeout=MAIL_TIMEOUT)))
    page.get_by_role("button", name=text["confirm"], exact=True).click()
    check_page(page, axe, text["ready"], f"the account of {email} is ready ({locale})")
    page.get_by_role("link", name=text["sign_in"], exact=True).click()
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=text["sign_in"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/signin/code$"))
    page.locator("input[name=code]").fill(code_in(mailbox.wait_for(email, count=3, timeout=MAIL_TIMEOUT)))
    page.locator("form[action$='/signin/code'] button[type=submit]").click()
    check_page(page, axe, text["account"], f"the account home of {email} ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_primary_invites_a_secondary_then_asks_to_remove_them(page, browser, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    speak(page, live_server, locale)
    create_dli(live_server.app, locale)

    # The primary user registers with the emailed code: the account home names the organization.
    register_and_sign_in(page, mailbox, axe, locale, PRIMARY, "Pat")
    expect(page.get_by_role("heading", name=text["your_organization"])).to_be_visible()
    expect(page.get_by_text(text["organization"], exact=True)).to_be_visible()
    expect(page.get_by_text(text["primary"], exact=True)).to_be_visible()
    page.get_by_role("link", name=text["manage_link"]).click()
    check_page(page, axe, text["manage"], f"the organization area ({locale})")

    # « Créer un compte pour un utilisateur d'un EED » → « Nouvelle requête »
    page.get_by_role("link", name=text["invite"]).click()
    check_page(page, axe, text["invite"], f"create an account for a user ({locale})")
    page.get_by_label(text["email"], exact=True).fill("not an address")
    page.get_by_role("button", name=text["new_request"], exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text(text["bad_address"])
    axe.assert_accessible(page, f"the invitation form with an error ({locale})")
    page.get_by_label(text["email"], exact=True).fill(SECONDARY)
    page.get_by_role("button", name=text["new_request"], exact=True).click()
    check_page(page, axe, text["manage"], f"the organization area after inviting ({locale})")
    expect(page.get_by_role("status")).to_contain_text(text["sent"])
    expect(page.get_by_role("cell", name=SECONDARY, exact=True)).to_be_visible()

    # The secondary user, in their own browser: the organization and their role, nothing to manage.
    context = browser.new_context(base_url=live_server.url, locale="en-CA")
    try:
        other = context.new_page()
        speak(other, live_server, locale)
        register_and_sign_in(other, mailbox, axe, locale, SECONDARY, "Sam")
        expect(other.get_by_text(text["organization"], exact=True)).to_be_visible()
        expect(other.get_by_text(text["secondary"], exact=True)).to_be_visible()
        expect(other.get_by_text(text["secondary_manages"])).to_be_visible()
        expect(other.get_by_role("link", name=text["manage_link"])).to_have_count(0)
    finally:
        context.close()

    # The primary user asks to remove the secondary user.
    page.reload()
    page.get_by_role("link", name=text["ask_to_remove"]).first.click()
    check_page(page, axe, text["remove"], f"ask to remove a secondary user ({locale})")
    expect(page.get_by_role("radio", name=f"Sam Tremblay ({SECONDARY})")).to_be_checked()
    page.get_by_label(text["reason"], exact=True).fill("Sam a quitté le collège." if locale == "fr" else "Sam left the college.")
    page.get_by_role("button", name=text["send"], exact=True).click()
    check_page(page, axe, text["requests"], f"the organization's requests ({locale})")
    expect(page.get_by_role("cell", name=text["waiting"])).to_be_visible()
