"""The account home in real Chromium, in French and English: the profile and recent activity,
changing the password (an error, then success), and the sessions page with "sign out
everywhere else" ending another browser's session. axe-core checks every page state."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.support import create_person
from tests.browser.test_recovery import check_page, sign_in, speak

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Tulipe-Orange-42-Ciel"
TEXT = {
    "fr": {
        "email": "Adresse courriel",
        "password": "Mot de passe",
        "sign_in": "Ouvrir une session",
        "account": "Votre compte",
        "signed_in": "Session ouverte",
        "change_link": "Modifier le mot de passe",
        "change_heading": "Modifier votre mot de passe",
        "current": "Mot de passe actuel",
        "new_password": "Nouveau mot de passe",
        "confirm_password": "Confirmez votre nouveau mot de passe",
        "change_button": "Modifier le mot de passe",
        "incorrect": "Votre mot de passe actuel est incorrect.",
        "changed": "Votre mot de passe a été modifié.",
        "sessions_link": "Sessions actives",
        "this_device": "Cet appareil",
        "device": "Chrome sur Linux",
        "end_others": "Fermer mes sessions partout ailleurs",
        "ended": "Vos sessions sur tous vos autres appareils ont été fermées.",
        "only_here": "Une session est ouverte dans votre compte sur cet appareil seulement.",
    },
    "en": {
        "email": "Email address",
        "password": "Password",
        "sign_in": "Sign in",
        "account": "Your account",
        "signed_in": "Signed in",
        "change_link": "Change password",
        "change_heading": "Change your password",
        "current": "Current password",
        "new_password": "New password",
        "confirm_password": "Confirm your new password",
        "change_button": "Change password",
        "incorrect": "Your current password is incorrect.",
        "changed": "Your password was changed.",
        "sessions_link": "Active sessions",
        "this_device": "This device",
        "device": "Chrome on Linux",
        "end_others": "Sign out everywhere else",
        "ended": "You were signed out on every other device.",
        "only_here": "Your account is signed in on this device only.",
    },
}
CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


def new_page(browser, live_server, locale: str):
    context = browser.new_context(base_url=live_server.url, locale=f"{locale}-CA", user_agent=CHROME_LINUX)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    speak(page, live_server, locale)
    return page


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_account_home_password_and_sessions(browser, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    person = create_person(live_server.app)
    here, elsewhere = new_page(browser, live_server, locale), new_page(browser, live_server, locale)
    try:
        for page in (here, elsewhere):
            page.goto("/account")
            sign_in(page, mailbox, text, person.email, person.password)
            check_page(page, axe, text["account"], f"the account home ({locale})")
        expect(here.get_by_text(person.email, exact=True)).to_be_visible()
        expect(here.get_by_role("cell", name=text["signed_in"]).first).to_be_visible()

        here.get_by_role("link", name=text["change_link"], exact=True).click()
        check_page(here, axe, text["change_heading"], f"change your password ({locale})")
        here.get_by_label(text["current"], exact=True).fill("not my password")
        here.get_by_label(text["new_password"], exact=True).fill(NEW_PASSWORD)
        here.get_by_label(text["confirm_password"], exact=True).fill(NEW_PASSWORD)
        here.get_by_role("button", name=text["change_button"], exact=True).click()
        expect(here.locator(".error-summary")).to_contain_text(text["incorrect"])
        axe.assert_accessible(here, f"change your password, with an error ({locale})")

        here.get_by_label(text["current"], exact=True).fill(person.password)
        here.get_by_label(text["new_password"], exact=True).fill(NEW_PASSWORD)
        here.get_by_label(text["confirm_password"], exact=True).fill(NEW_PASSWORD)
        here.get_by_role("button", name=text["change_button"], exact=True).click()
        check_page(here, axe, text["account"], f"the account home after a change ({locale})")
        expect(here.get_by_role("status")).to_contain_text(text["changed"])

        # The change ended the other browser's session; sign it in again with the new password.
        elsewhere.goto("/account")
        sign_in(elsewhere, mailbox, text, person.email, NEW_PASSWORD)
        check_page(elsewhere, axe, text["account"], f"the account home, signed in again ({locale})")

        here.get_by_role("link", name=text["sessions_link"], exact=True).click()
        check_page(here, axe, text["sessions_link"], f"active sessions ({locale})")
        expect(here.get_by_role("cell", name=text["device"])).to_have_count(2)
        expect(here.get_by_text(text["this_device"], exact=True)).to_have_count(1)
        here.get_by_role("button", name=text["end_others"]).click()
        expect(here.get_by_role("status")).to_contain_text(text["ended"])
        expect(here.get_by_text(text["only_here"])).to_be_visible()
        axe.assert_accessible(here, f"active sessions after signing out elsewhere ({locale})")

        elsewhere.goto("/account")
        expect(elsewhere.get_by_role("heading", level=1)).to_have_text(text["sign_in"])
    finally:
        here.context.close()
        elsewhere.context.close()
