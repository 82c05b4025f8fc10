"""The sign-in page in a real browser, in French and in English (issue 2, Tests).

Each page state is also checked with axe-core (WCAG 2.1 A/AA, no serious or critical
violation): the blank form, the error state and the account page it leads to.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import create_person, finish_signin_steps
from tests.signin_support import signin_codes_sent

pytestmark = pytest.mark.browser

# What a person sees, per language; the French follows the fr catalog.
TEXT = {
    "fr": {
        "title": "Ouvrir une session – Passerelle",
        "error_title": "Erreur\u00a0: Ouvrir une session – Passerelle",
        "heading": "Ouvrir une session",
        "email": "Adresse courriel",
        "password": "Mot de passe",
        "submit": "Ouvrir une session",
        "problem": "Il y a un problème",
        "incorrect": "L'adresse courriel ou le mot de passe est incorrect.",
        "enter_email": "Entrez votre adresse courriel.",
        "enter_password": "Entrez votre mot de passe.",
        "account": "Votre compte",
        "toggle_to_other": "English",
    },
    "en": {
        "title": "Sign in – Passerelle",
        "error_title": "Error: Sign in – Passerelle",
        "heading": "Sign in",
        "email": "Email address",
        "password": "Password",
        "submit": "Sign in",
        "problem": "There is a problem",
        "incorrect": "Incorrect email or password.",
        "enter_email": "Enter your email address.",
        "enter_password": "Enter your password.",
        "account": "Your account",
        "toggle_to_other": "Français",
    },
}
OTHER = {"fr": "en", "en": "fr"}


def open_signin(page: Page, locale: str) -> None:
    """Go to the local sign-in page and settle on a language with the toggle, as a person would."""
    page.goto("/signin")
    if page.locator("html").get_attribute("lang") != locale:
        page.get_by_role("link", name=TEXT[OTHER[locale]]["toggle_to_other"]).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)


def submit_signin(page: Page, locale: str, email: str, password: str, *, finish: bool = True) -> None:
    """Fill and send the password page; when it leads on, also type the emailed code and
    accept the terms (finish=False stops after the password)."""
    text = TEXT[locale]
    codes_before = signin_codes_sent(email)
    page.get_by_label(text["email"], exact=True).fill(email)
    page.get_by_label(text["password"], exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=text["submit"], exact=True).click()
    if finish:
        finish_signin_steps(page, locale, email, codes_before)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_signin_page_speaks_the_browser_language(browser, live_server, axe, locale):
    """With no choice made yet, Accept-Language decides; fr-CA counts as French."""
    context = browser.new_context(base_url=live_server.url, locale=f"{locale}-CA")
    page = context.new_page()
    try:
        page.goto("/signin")

        text = TEXT[locale]
        expect(page.locator("html")).to_have_attribute("lang", locale)
        expect(page).to_have_title(text["title"])
        expect(page.get_by_role("heading", level=1)).to_have_text(text["heading"])
        expect(page.get_by_label(text["email"], exact=True)).to_be_visible()
        expect(page.get_by_label(text["password"], exact=True)).to_have_attribute("type", "password")
        axe.assert_accessible(page, f"the sign-in page ({locale})")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_language_toggle_switches_language_and_stays_on_the_sign_in_page(page, locale):
    open_signin(page, OTHER[locale])
    address_before = page.url

    page.get_by_role("link", name=TEXT[OTHER[locale]]["toggle_to_other"]).click()

    assert page.url == address_before
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT[locale]["heading"])
    # The toggle now offers the way back, named in its own language.
    back = page.get_by_role("link", name=TEXT[locale]["toggle_to_other"])
    expect(back).to_have_attribute("lang", OTHER[locale])


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_language_toggle_keeps_the_sign_in_going(page, live_server, locale):
    """Switching language mid-way does not restart the sign-in: the same transaction finishes."""
    person = create_person(live_server.app)
    open_signin(page, OTHER[locale])
    page.get_by_role("link", name=TEXT[OTHER[locale]]["toggle_to_other"]).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)

    submit_signin(page, locale, person.email, person.password)

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT[locale]["account"])


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_signin_with_the_right_password_opens_the_account_page(page, live_server, axe, locale):
    person = create_person(live_server.app)
    page.goto("/account")  # not signed in: the account page starts a sign-in
    expect(page).to_have_url(re.compile(r"/signin$"))
    open_signin(page, locale)

    submit_signin(page, locale, person.email, person.password)

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT[locale]["account"])
    expect(page.get_by_text(person.email)).to_be_visible()
    expect(page.get_by_text(f"{person.given_name} {person.family_name}")).to_be_visible()
    axe.assert_accessible(page, f"the account page ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_wrong_password_shows_a_translated_error_summary_linking_to_the_field(page, live_server, axe, locale):
    person = create_person(live_server.app)
    open_signin(page, locale)
    text = TEXT[locale]

    submit_signin(page, locale, person.email, "not the password")

    expect(page).to_have_title(text["error_title"])
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text(text["problem"])
    link = summary.get_by_role("link", name=text["incorrect"])
    expect(link).to_have_attribute("href", "#email")
    # The message is also next to the field and announced with it.
    email = page.get_by_label(text["email"], exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile(re.escape(text["incorrect"])))
    # The password is never sent back into the page.
    expect(page.get_by_label(text["password"], exact=True)).to_have_value("")
    axe.assert_accessible(page, f"the sign-in error state ({locale})")

    link.click()

    expect(email).to_be_focused()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_empty_form_lists_each_missing_field(page, axe, locale):
    open_signin(page, locale)
    text = TEXT[locale]

    page.get_by_role("button", name=text["submit"], exact=True).click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name=text["enter_email"])).to_have_attribute("href", "#email")
    expect(summary.get_by_role("link", name=text["enter_password"])).to_have_attribute("href", "#password")
    axe.assert_accessible(page, f"the sign-in page with missing fields ({locale})")

    summary.get_by_role("link", name=text["enter_password"]).click()

    expect(page.get_by_label(text["password"], exact=True)).to_be_focused()


def test_wrong_password_then_right_password_signs_in(page, live_server):
    person = create_person(live_server.app)
    open_signin(page, "fr")
    submit_signin(page, "fr", person.email, "nope")
    expect(page.get_by_role("alert")).to_be_visible()

    submit_signin(page, "fr", person.email, person.password)

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT["fr"]["account"])


SHOW_HIDE = {"fr": ("Afficher le mot de passe", "Masquer le mot de passe"), "en": ("Show password", "Hide password")}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_show_password_button_speaks_the_page_language(page, locale):
    open_signin(page, locale)
    show, hide = SHOW_HIDE[locale]
    password = page.get_by_label(TEXT[locale]["password"], exact=True)
    password.fill("s3cret")

    page.get_by_role("button", name=show).click()

    expect(password).to_have_attribute("type", "text")
    toggle = page.get_by_role("button", name=hide)
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(password).to_have_attribute("type", "password")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_error_summary_takes_focus_so_it_is_announced_first(page, live_server, locale):
    person = create_person(live_server.app)
    open_signin(page, locale)

    submit_signin(page, locale, person.email, "wrong")

    expect(page.get_by_role("alert")).to_be_focused()
