"""The document portal's journey of issue 13 (Done when) in real Chromium, French and English,
axe-core on every page: a school's staff member signs in (two-factor, stepped up by the
portal), issues a signed transcript → Passerelle emails the invitation → the learner
registers at Passerelle through its link → lands in the portal signed in, the document
theirs → views and verifies, shares, a third party opens the link and sees "valid", the
learner revokes and the link is dead (the second half is document_portal_learner_journey's).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from clients.document_portal.signing.demo_pki import make_demo_pki
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.document_portal_learner_journey import learner_views_verifies_shares_and_revokes
from tests.browser.support import finish_signin_steps
from tests.browser.test_registration_journeys import TEXT as REGISTRATION_TEXT
from tests.browser.test_registration_journeys import set_password, solve_robot
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.document_portal_support import (
    build_document_portal,
    plain_pdf,
    register_document_portal,
    school_with_staff,
    with_two_factor,
)
from tests.mail_support import path_of_link
from tests.oidc_support import PASSWORD
from tests.signin_support import signin_codes_sent
from tests.support import LiveServer

pytestmark = pytest.mark.browser

STAFF = "registraire@ecole.example"
LEARNER = "zoe.citoyenne@example.ca"
MAIL_TIMEOUT = 30
TEXT = {
    "fr": {
        "welcome": "Vos documents, signés numériquement",
        "sign_in": "Ouvrir une session avec Passerelle",
        "app_code": "Code de l'application",
        "validate": "Valider le code",
        "issued": "Documents émis",
        "issue": "Émettre un document",
        "given_name": "Prénom de la personne étudiante",
        "family_name": "Nom de famille de la personne étudiante",
        "email": "Adresse courriel de la personne étudiante",
        "contact": "Adresse de l'établissement pour les questions",
        "pdf": "Fichier PDF",
        "sign_and_issue": "Signer et émettre",
        "done": "Le document est signé et émis.",
        "invitation_subject": "Relevé de notes",
        "my_documents": "Mes documents",
    },
    "en": {
        "welcome": "Your documents, digitally signed",
        "sign_in": "Sign in with Passerelle",
        "app_code": "Code from the app",
        "validate": "Validate the code",
        "issued": "Issued documents",
        "issue": "Issue a document",
        "given_name": "Learner's given name",
        "family_name": "Learner's family name",
        "email": "Learner's email address",
        "contact": "School's address for questions",
        "pdf": "PDF file",
        "sign_and_issue": "Sign and issue",
        "done": "The document is signed and issued.",
        "invitation_subject": "Transcript",
        "my_documents": "My documents",
    },
}


@pytest.fixture
def portal(live_server, tmp_path) -> Iterator[LiveServer]:
    server = LiveServer()
    registration = register_document_portal(live_server.app, origin=server.url)
    app = build_document_portal(live_server.url, registration, tmp_path / "portal.db",
                                make_demo_pki(tmp_path / "pki"), origin=server.url)
    server.start(app)
    yield server
    server.stop()


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def staff_signs_in(page: Page, live_server, portal, locale: str, secret: str, clock, axe) -> None:
    """Password and the emailed code first (the staff member's usual way), then the portal
    sends them back for the authenticator app: staff need two-factor."""
    text, signin = TEXT[locale], SIGNIN_TEXT[locale]
    page.goto(portal.url + "/")
    heading(page, text["welcome"])
    axe.assert_accessible(page, f"document portal welcome ({locale})")
    page.get_by_role("link", name=text["sign_in"], exact=True).click()
    page.wait_for_url(live_server.url + "/**")
    codes_before = signin_codes_sent(STAFF)
    page.get_by_label(signin["email"], exact=True).fill(STAFF)
    page.get_by_label(signin["password"], exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=signin["submit"], exact=True).click()
    finish_signin_steps(page, locale, STAFF, codes_before)
    page.wait_for_url(live_server.url + "/signin/app**")  # the portal's step-up
    page.get_by_label(text["app_code"], exact=True).fill(pyotp.TOTP(secret).at(clock()))
    page.get_by_role("button", name=text["validate"], exact=True).click()
    page.wait_for_url(portal.url + "/issuing")
    heading(page, text["issued"])
    axe.assert_accessible(page, f"issued documents ({locale})")


def staff_issues(page: Page, portal, locale: str, tmp_path, axe) -> None:
    text = TEXT[locale]
    page.get_by_role("link", name=text["issue"], exact=True).click()
    heading(page, text["issue"])
    axe.assert_accessible(page, f"issue a document ({locale})")
    page.get_by_label(text["given_name"], exact=True).fill("Zoé")
    page.get_by_label(text["family_name"], exact=True).fill("Citoyenne")
    page.get_by_label(text["email"], exact=True).fill(LEARNER)
    page.locator(f"input[name=locale][value={locale}]").check()
    page.get_by_label(text["contact"], exact=True).fill("info@ecole-imaginaire.ca")
    upload = tmp_path / "releve.pdf"
    upload.write_bytes(plain_pdf())
    page.get_by_label(text["pdf"], exact=True).set_input_files(str(upload))
    page.get_by_role("button", name=text["sign_and_issue"], exact=True).click()
    expect(page.locator("#issued")).to_contain_text(text["done"])
    axe.assert_accessible(page, f"the issued document ({locale})")


def learner_registers_and_lands(page: Page, live_server, portal, mailbox, locale: str, axe) -> None:
    """From the invitation email: « M'inscrire » → Passerelle's registration (link journey) →
    back to the portal's sign-in → « Mes documents », the document theirs."""
    text, registration = TEXT[locale], REGISTRATION_TEXT[locale]
    invitation = mailbox.wait_for(LEARNER, timeout=MAIL_TIMEOUT)
    assert text["invitation_subject"] in invitation["Subject"]
    page.goto(live_server.url + path_of_link(invitation, "/register/invitation/"))
    heading(page, registration["create_heading"])
    axe.assert_accessible(page, f"registration from the document invitation ({locale})")
    page.get_by_label(registration["email"], exact=True).fill(LEARNER)
    page.get_by_role("button", name=registration["next"]).click()
    heading(page, registration["check_email"])
    activation = mailbox.wait_for(LEARNER, count=2, timeout=MAIL_TIMEOUT)
    page.goto(live_server.url + path_of_link(activation, "/register/activate/"))
    page.get_by_role("button", name=registration["confirm_email_button"]).click()
    heading(page, registration["almost_there"])
    set_password(page, registration)
    solve_robot(page, registration)
    page.get_by_label(registration["consent"]).check()
    page.get_by_role("button", name=registration["create_account"]).click()
    page.wait_for_url(portal.url + "/documents")
    heading(page, text["my_documents"])
    expect(page.locator("#documents")).to_contain_text("École Imaginaire" if locale == "fr" else "Imaginary School")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_school_issues_and_the_invited_learner_registers_lands_views_and_shares(
        browser: Browser, live_server, portal, mailbox, clock, axe, tmp_path, locale):
    school = school_with_staff(live_server.app, (STAFF,))
    secret = with_two_factor(live_server.app, school.staff[STAFF], clock)
    staff_context = browser.new_context(locale=f"{locale}-CA")
    staff_context.set_default_timeout(TIMEOUT_MS)
    learner_context = browser.new_context(locale=f"{locale}-CA", accept_downloads=True)
    learner_context.set_default_timeout(TIMEOUT_MS)
    try:
        staff_page = staff_context.new_page()
        staff_signs_in(staff_page, live_server, portal, locale, secret, clock, axe)
        staff_issues(staff_page, portal, locale, tmp_path, axe)
        learner = learner_context.new_page()
        learner.context.add_cookies([{"name": "passerelle_lang", "value": locale, "url": live_server.url}])
        learner_registers_and_lands(learner, live_server, portal, mailbox, locale, axe)
        learner_views_verifies_shares_and_revokes(browser, learner, portal.url, axe, locale)
    finally:
        staff_context.close()
        learner_context.close()
