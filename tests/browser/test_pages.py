"""Every other page a person can reach, in both languages: translated, titled, and clean
under axe-core (design.md, Testing: axe-core on every page in both languages)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import create_person
from tests.browser.test_signin import submit_signin

pytestmark = pytest.mark.browser

LANGUAGE_COOKIE = "passerelle_lang"

# (how to reach the page, expected <h1> per language)
PAGES = {
    "help": ("/help", {"fr": "Aide à l'ouverture de session", "en": "Help with signing in"}),
    "signed-out": ("/signout", {"fr": "Votre session est fermée", "en": "You are signed out"}),
    "not-found": ("/no-such-page", {"fr": "Page introuvable", "en": "Page not found"}),
    "unknown-client": (
        "/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid",
        {"fr": "Cette demande ne peut pas être traitée", "en": "This request cannot be completed"},
    ),
    "rp-logout-signed-out": ("/logout", {"fr": "Votre session est fermée", "en": "You are signed out"}),
}


def speak(page: Page, live_server, locale: str) -> None:
    """Choose the language the way the toggle leaves it: the language cookie."""
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": locale, "url": live_server.url}])


def assert_page(page: Page, axe, locale: str, heading: str, what: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page).to_have_title(re.compile(r"\S.* – Passerelle$"))
    axe.assert_accessible(page, f"{what} ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_is_translated_and_accessible(page, live_server, axe, name, locale):
    path, headings = PAGES[name]
    speak(page, live_server, locale)

    page.goto(path)

    assert_page(page, axe, locale, headings[locale], f"the {name} page")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_signed_in_pages_are_translated_and_accessible(page, live_server, axe, locale):
    """The sign-out question and the sign-out confirmation, reached by really signing in."""
    person = create_person(live_server.app)
    speak(page, live_server, locale)
    page.goto("/account")
    submit_signin(page, locale, person.email, person.password)
    expect(page).to_have_url(re.compile(r"/account$"))

    page.goto("/signout")
    heading = {"fr": "Fermer la session", "en": "Sign out"}[locale]
    assert_page(page, axe, locale, heading, "the sign-out page")

    page.get_by_role("main").get_by_role("button", name=heading).click()

    done = {"fr": "Votre session est fermée", "en": "You are signed out"}[locale]
    assert_page(page, axe, locale, done, "the signed-out page")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/signin$"))  # the session really ended


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_expired_sign_in_page_is_translated_and_accessible(page, live_server, axe, locale):
    """A sign-in cookie that names no live transaction (expired, finished or forged)."""
    speak(page, live_server, locale)
    page.context.add_cookies([{"name": "passerelle_signin", "value": "no-such-transaction", "url": live_server.url}])

    response = page.goto("/signin")

    assert response is not None and response.status == 400
    heading = {"fr": "Votre ouverture de session a expiré", "en": "Your sign-in has expired"}[locale]
    assert_page(page, axe, locale, heading, "the expired sign-in page")


def test_language_toggle_keeps_the_query_of_the_page(page, live_server):
    """The toggle returns to the same address, query included (here: an error page)."""
    speak(page, live_server, "en")
    path, headings = PAGES["unknown-client"]
    page.goto(path)
    before = page.url

    page.get_by_role("link", name="Français").click()

    assert page.url == before
    expect(page.get_by_role("heading", level=1)).to_have_text(headings["fr"])


@pytest.mark.parametrize("path, button", [
    ("/signin/help", "Continue"),
    ("/register/code", "Register"),
])
def test_an_error_summary_takes_the_focus_so_it_is_announced_first(page, path, button):
    """Every form with an error summary moves focus to it (idp/static/js/password-toggle.js)."""
    page.goto(path)  # the browser speaks en-CA
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".error-summary")).to_be_focused()
