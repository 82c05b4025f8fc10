"""Issue 12's browser journey, in real Chromium, in French and English, axe-core on each
portal page: the DLI's primary user signs in to the institution portal (two-factor), opens
the users page, « Créer un compte pour un utilisateur d'un EED » → « Nouvelle requête »; the
invited person registers at Passerelle with the emailed code (seed 001), signs in to the
portal with two-factor, accepts its terms, reaches the portal's home as a secondary user
(the users pages are not theirs), and verifies a letter of acceptance (a refusal needs a
reason) and prepares the open period's report (a draft with one student; only the primary
user submits); the primary user then sees the new member and asks to remove them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clients.institution_portal.db import db as portal_db
from clients.institution_portal.letters.importing import COLUMNS, import_letters
from idp.accounts.models import User
from idp.extensions import db
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_institution_portal import TEXT as PORTAL_TEXT
from tests.browser.test_organizations import register_and_sign_in
from tests.browser.test_registration_journeys import speak
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.institution_portal_api_support import attach, register_api_portal
from tests.institution_portal_reports_support import add_institution_with_period
from tests.institution_portal_support import add_authenticator_app, build_portal
from tests.oidc_support import PASSWORD
from tests.orgs_access_support import PRIMARY_EMAIL, dli_with_members
from tests.support import LiveServer

pytestmark = pytest.mark.browser

NEWCOMER = "lou.secondaire@example.ca"
LETTERS = (",".join(COLUMNS) + "\nO123456789012,LOA-2026-0001,Nguyen,Van,2004-05-14,Génie civil,2027-01-10,"
           "2026-12-01\n").encode()
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
        "waiting": "Lettres d'acceptation en attente de validation : 1.",
        "forbidden": "Réservé à l'utilisateur principal",
        "verify_link": "Valider les lettres d'acceptation",
        "letters_heading": "Lettres d'acceptation à vérifier",
        "letter": "Lettre d'acceptation LOA-2026-0001",
        "refuse": "Refuser : mon établissement n'a pas délivré cette lettre",
        "confirm": "Confirmer : mon établissement a délivré cette lettre",
        "record": "Enregistrer la décision",
        "reason_needed": "Indiquez pourquoi vous refusez la lettre.",
        "confirmed": "La lettre LOA-2026-0001 est confirmée.",
        "change": "Demander de changer l'utilisateur principal",
        "send": "Envoyer la demande",
        "explain": "Expliquez la raison de votre demande.",
        "reason": "Raison de la demande",
        "waiting_decision": "En attente d'une décision",
        "add_student": "Ajouter un étudiant",
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
        "waiting": "Letters of acceptance waiting for verification: 1.",
        "forbidden": "Reserved for the primary user",
        "verify_link": "Verify letters of acceptance",
        "letters_heading": "Letters of acceptance to verify",
        "letter": "Letter of acceptance LOA-2026-0001",
        "refuse": "Refuse: my institution did not issue this letter",
        "confirm": "Confirm: my institution issued this letter",
        "record": "Record the decision",
        "reason_needed": "Give the reason why you refuse the letter.",
        "confirmed": "The letter LOA-2026-0001 is confirmed.",
        "change": "Ask to change the primary user",
        "send": "Send the request",
        "explain": "Explain why you make this request.",
        "reason": "Reason for the request",
        "waiting_decision": "Waiting for a decision",
        "add_student": "Add a student",
    },
}


@pytest.fixture
def world(live_server, tmp_path) -> Iterator[tuple[LiveServer, object]]:
    dli = dli_with_members(live_server.app, people=((PRIMARY_EMAIL, "primary"),))
    server = LiveServer()
    registration = register_api_portal(live_server.app, origin=server.url)
    attach(live_server.app, dli.id, registration.client_id)
    app = build_portal(live_server.url, registration, tmp_path / "portal.db", origin=server.url)
    with app.app_context():  # the operator imported one letter; `periods run` opened a period
        import_letters(portal_db.session, app.extensions["institution_portal"].clock, LETTERS)
        add_institution_with_period(portal_db.session, dli.public_id, "O123456789012", today=date.today())
        portal_db.session.commit()
    server.start(app)
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
    primary_context = browser.new_context(locale=f"{locale}-CA")
    primary_context.set_default_timeout(TIMEOUT_MS)
    newcomer_context = browser.new_context(base_url=live_server.url, locale="en-CA")
    newcomer_context.set_default_timeout(TIMEOUT_MS)
    try:
        # The primary user: sign in, the users page, « Créer un compte … » → « Nouvelle requête ».
        page = primary_context.new_page()
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

        # The invited person registers at Passerelle with the emailed code, in their own browser.
        newcomer = newcomer_context.new_page()
        speak(newcomer, live_server, locale)
        register_and_sign_in(newcomer, mailbox, axe, locale, NEWCOMER, "Lou")
        # They set up an authenticator app at Passerelle (its own journey: tests/browser/test_two_factor.py).
        with live_server.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == NEWCOMER))
        secret = add_authenticator_app(live_server.app, user_id, clock)

        # The portal: two-factor (already signed in at Passerelle), its terms, home.
        sign_in_to_the_portal(newcomer, portal, live_server, locale, secret, clock)
        heading(newcomer, portal_text["institution"])
        expect(newcomer.locator("#institution")).to_contain_text(text["secondary"])
        expect(newcomer.get_by_role("link", name=text["manage_users"])).to_have_count(0)
        expect(newcomer.locator("#letters")).to_contain_text(text["waiting"])
        axe.assert_accessible(newcomer, f"portal home of the new secondary user ({locale})")
        newcomer.goto(portal.url + "/users")
        heading(newcomer, text["forbidden"])
        axe.assert_accessible(newcomer, f"portal users refused to a secondary user ({locale})")

        # The secondary user verifies a letter: a refusal needs a reason, then a confirmation.
        newcomer.goto(portal.url + "/")
        newcomer.get_by_role("link", name=text["verify_link"]).click()
        heading(newcomer, text["letters_heading"])
        axe.assert_accessible(newcomer, f"portal letters ({locale})")
        newcomer.get_by_role("link", name="LOA-2026-0001").click()
        heading(newcomer, text["letter"])
        axe.assert_accessible(newcomer, f"portal letter ({locale})")
        newcomer.get_by_label(text["refuse"]).check()
        newcomer.get_by_role("button", name=text["record"], exact=True).click()
        expect(newcomer.locator(".error-summary")).to_contain_text(text["reason_needed"])
        axe.assert_accessible(newcomer, f"portal letter refused without a reason ({locale})")
        newcomer.get_by_label(text["confirm"]).check()
        newcomer.get_by_role("button", name=text["record"], exact=True).click()
        newcomer.wait_for_url(portal.url + "/letters")
        expect(newcomer.get_by_role("status")).to_contain_text(text["confirmed"])
        expect(newcomer.locator("#decided-letters")).to_contain_text("Lou Tremblay")
        axe.assert_accessible(newcomer, f"portal letters after a decision ({locale})")

        # The secondary user prepares the open period's report: a draft with one student.
        # (Imported here: that module imports this one's sign_in_to_the_portal.)
        from tests.browser.test_institution_portal_reports import TEXT as REPORTS_TEXT

        reports = REPORTS_TEXT[locale]
        newcomer.goto(portal.url + "/")
        newcomer.get_by_role("link", name=reports["reports_link"], exact=True).click()
        heading(newcomer, reports["reports"])
        newcomer.get_by_role("button", name=reports["prepare"], exact=True).click()
        heading(newcomer, reports["report"])
        newcomer.get_by_role("link", name=text["add_student"], exact=True).click()
        heading(newcomer, text["add_student"])
        axe.assert_accessible(newcomer, f"portal add a student, by a secondary user ({locale})")
        for name, value in (("student_number", "S2001"), ("family_name", "Nguyen"), ("given_names", "Van"),
                            ("date_of_birth", "2004-05-14"), ("uci", "12345678"), ("permit_number", "F123456789"),
                            ("program", "Génie civil")):
            newcomer.locator(f"#{name}").fill(value)
        newcomer.locator("#status").select_option("full_time")
        newcomer.get_by_role("button", name=reports["save"], exact=True).click()
        heading(newcomer, reports["report"])
        expect(newcomer.locator("main")).to_contain_text("S2001")
        expect(newcomer.get_by_role("button", name=reports["submit"], exact=True)).to_have_count(0)
        axe.assert_accessible(newcomer, f"portal draft prepared by a secondary user ({locale})")

        # Back to the primary user: the new member, and a request to remove them.
        page.reload()
        expect(page.locator("#members")).to_contain_text(NEWCOMER)
        page.get_by_role("link", name=text["change"]).click()
        axe.assert_accessible(page, f"portal change of primary user ({locale})")
        page.go_back()
        page.locator("#members").get_by_role("link").click()
        axe.assert_accessible(page, f"portal removal of a secondary user ({locale})")
        page.get_by_role("button", name=text["send"], exact=True).click()
        expect(page.locator(".error-summary")).to_contain_text(text["explain"])
        axe.assert_accessible(page, f"portal removal without a reason ({locale})")
        page.get_by_label(text["reason"], exact=True).fill("Départ en juin.")
        page.get_by_role("button", name=text["send"], exact=True).click()
        page.wait_for_url(portal.url + "/users")
        expect(page.locator("#requests")).to_contain_text(text["waiting_decision"])
        axe.assert_accessible(page, f"portal users with a pending request ({locale})")
    finally:
        primary_context.close()
        newcomer_context.close()
