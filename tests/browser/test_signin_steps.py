"""The sign-in after the password in real Chromium, in French and English: the emailed code
read from the SMTP server the live IdP sends to (seed 001: "Valider le code", "Demander un
nouveau code"), then the terms, with axe-core on every page and state; and the terms pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import MAIL_TIMEOUT, create_person
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.browser.test_signin import open_signin, submit_signin
from tests.signin_support import signin_codes_sent, wait_for_signin_code

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "code_title": "Entrez le code envoyé à votre adresse courriel – Passerelle",
        "code_error_title": "Erreur\u00a0: Entrez le code envoyé à votre adresse courriel – Passerelle",
        "code_heading": "Entrez le code envoyé à votre adresse courriel",
        "code": "Code de vérification",
        "validate": "Valider le code",
        "new_code": "Demander un nouveau code",
        "incorrect": "Le code est incorrect. Vérifiez le code dans le courriel le plus récent et réessayez.",
        "sent_again": "Nous avons envoyé un nouveau code à a***@example.ca.",
        "terms_title": "Conditions d'utilisation et politique de confidentialité – Passerelle",
        "read_terms": "Lire les conditions d'utilisation",
        "accept": "J'ai lu et j'accepte",
        "decline": "Je n'accepte pas",
        "not_signed_in": "Aucune session n'est ouverte",
        "terms_page": "Conditions d'utilisation",
        "privacy_page": "Politique de confidentialité",
        "expired": "Ce code est expiré. Demandez un nouveau code.",
        "paused": "l'ouverture de session à ce compte est suspendue pour un moment",
    },
    "en": {
        "code_title": "Enter the code sent to your email – Passerelle",
        "code_error_title": "Error: Enter the code sent to your email – Passerelle",
        "code_heading": "Enter the code sent to your email",
        "code": "Verification code",
        "validate": "Validate the code",
        "new_code": "Request a new code",
        "incorrect": "The code is incorrect. Check the code in the most recent email and try again.",
        "sent_again": "We sent a new code to a***@example.ca.",
        "terms_title": "Terms of use and privacy policy – Passerelle",
        "read_terms": "Read the terms of use",
        "accept": "I have read and I accept",
        "decline": "I do not accept",
        "not_signed_in": "You are not signed in",
        "terms_page": "Terms of use",
        "privacy_page": "Privacy policy",
        "expired": "This code has expired. Request a new code.",
        "paused": "signing in to this account is paused for a while",
    },
}


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def to_code_page(page: Page, live_server, locale: str):
    """Sign in with the password and land on the code page. Returns the person and how many
    code emails they had before (the SMTP server keeps every test's mail: wait for a new one)."""
    person = create_person(live_server.app)
    page.goto("/account")
    open_signin(page, locale)
    codes_before = signin_codes_sent(person.email)
    submit_signin(page, locale, person.email, person.password, finish=False)
    expect(page).to_have_url(re.compile(r"/signin/code$"))
    return person, codes_before


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_emailed_code_then_the_terms_lead_to_the_account(page, live_server, clock, axe, locale):
    text = TEXT[locale]
    person, codes_before = to_code_page(page, live_server, locale)
    expect(page).to_have_title(text["code_title"])
    expect(page.get_by_role("heading", level=1)).to_have_text(text["code_heading"])
    expect(page.get_by_text("a***@example.ca").first).to_be_visible()
    field = page.get_by_label(text["code"], exact=True)
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    expect(field).to_have_attribute("inputmode", "numeric")
    axe.assert_accessible(page, f"the emailed code page ({locale})")
    first = wait_for_signin_code(person.email, codes_before, timeout=MAIL_TIMEOUT)

    # A wrong code: the error summary, announced first, links to the field.
    field.fill(wrong(first))
    page.get_by_role("button", name=text["validate"], exact=True).click()
    expect(page).to_have_title(text["code_error_title"])
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=text["incorrect"])).to_have_attribute("href", "#code")
    axe.assert_accessible(page, f"the emailed code page with an error ({locale})")

    # "Request a new code", once the 30 s are over: the new code replaces the first.
    clock.advance(30)
    page.get_by_role("button", name=text["new_code"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(text["sent_again"])
    axe.assert_accessible(page, f"the emailed code page after a new code ({locale})")
    second = wait_for_signin_code(person.email, codes_before + 1, timeout=MAIL_TIMEOUT)
    page.get_by_label(text["code"], exact=True).fill(second)
    page.get_by_role("button", name=text["validate"], exact=True).click()

    # The terms, in the page's language, readable in place.
    expect(page).to_have_url(re.compile(r"/signin/terms$"))
    expect(page).to_have_title(text["terms_title"])
    page.get_by_text(text["read_terms"], exact=True).click()
    expect(page.locator(f"details .legal-document[lang={locale}]").first).to_be_visible()
    axe.assert_accessible(page, f"the terms step ({locale})")
    page.get_by_role("button", name=text["accept"], exact=True).click()

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(SIGNIN_TEXT[locale]["account"])


def lock_account(app, email: str) -> None:
    """The state SIGNIN_LOCK_THRESHOLD failures leave (idp.accounts.throttle): locked for
    SIGNIN_LOCK_DURATION. Set directly: reaching it through the page takes ten slow tries."""
    from datetime import timedelta

    from sqlalchemy import select

    from idp.accounts.models import User
    from idp.context import app_context
    from idp.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.failed_signin_count = app.config["SIGNIN_LOCK_THRESHOLD"]
        user.last_failed_signin_at = app_context().clock()
        user.locked_until = user.last_failed_signin_at + timedelta(seconds=app.config["SIGNIN_LOCK_DURATION"])
        db.session.commit()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_expired_and_locked_code_pages_are_accessible(page, live_server, clock, axe, locale):
    text = TEXT[locale]
    person, codes_before = to_code_page(page, live_server, locale)
    code = wait_for_signin_code(person.email, codes_before, timeout=MAIL_TIMEOUT)

    # The code's 3 minutes are over: the right code says it expired.
    clock.advance(181)
    page.get_by_label(text["code"], exact=True).fill(code)
    page.get_by_role("button", name=text["validate"], exact=True).click()
    expect(page).to_have_title(text["code_error_title"])
    expect(page.get_by_role("alert")).to_contain_text(text["expired"])
    axe.assert_accessible(page, f"the emailed code page, code expired ({locale})")

    # A new code, then the account is locked: even that code is refused, and the page says why.
    page.get_by_role("button", name=text["new_code"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(text["sent_again"])
    second = wait_for_signin_code(person.email, codes_before + 1, timeout=MAIL_TIMEOUT)
    lock_account(live_server.app, person.email)
    page.get_by_label(text["code"], exact=True).fill(second)
    page.get_by_role("button", name=text["validate"], exact=True).click()
    expect(page).to_have_title(text["code_error_title"])
    expect(page.get_by_role("alert")).to_contain_text(text["paused"])
    axe.assert_accessible(page, f"the emailed code page, account locked ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_declining_the_terms_leaves_the_person_signed_out(page, live_server, axe, locale):
    text = TEXT[locale]
    person, codes_before = to_code_page(page, live_server, locale)
    code = wait_for_signin_code(person.email, codes_before, timeout=MAIL_TIMEOUT)
    page.get_by_label(text["code"], exact=True).fill(code)
    page.get_by_role("button", name=text["validate"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/signin/terms$"))

    page.get_by_role("button", name=text["decline"], exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(text["not_signed_in"])
    axe.assert_accessible(page, f"the terms declined page ({locale})")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/signin$"))


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("path", ["/terms", "/privacy"])
def test_the_documents_are_translated_and_accessible(page, live_server, axe, path, locale):
    text = TEXT[locale]
    page.goto(path)
    if page.locator("html").get_attribute("lang") != locale:
        page.get_by_role("link", name=SIGNIN_TEXT[{"fr": "en", "en": "fr"}[locale]]["toggle_to_other"]).click()
    heading = text["terms_page"] if path == "/terms" else text["privacy_page"]
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(f".legal-document[lang={locale}]")).to_be_visible()
    axe.assert_accessible(page, f"{path} ({locale})")


def test_the_whole_sign_in_with_the_shared_helper(page, live_server):
    """The helper other browser tests use gets through the code and the terms."""
    person = create_person(live_server.app)
    page.goto("/account")
    open_signin(page, "en")
    before = signin_codes_sent(person.email)
    submit_signin(page, "en", person.email, person.password)
    expect(page).to_have_url(re.compile(r"/account$"))
    assert signin_codes_sent(person.email) == before + 1
