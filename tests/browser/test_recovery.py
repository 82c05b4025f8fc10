""""Can't sign in?" and the password reset in real Chromium, in French and English: from the
sign-in page's link, through the not-a-robot widget solved in the browser and the emailed
link (real SMTP on loopback), to signing in with the new password. axe-core checks every
page state on the way (seed 000, step 06)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import create_person
from tests.mail_support import code_in, path_of_link

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Tulipe-Orange-42-Ciel"
# Mail leaves after the response, in the live server's thread: generous on a loaded machine.
MAIL_TIMEOUT = 30
TEXT = {
    "fr": {
        "cant": "Vous n'arrivez pas à vous connecter?",
        "email": "Adresse courriel",
        "robot": "Je ne suis pas un robot",
        "verified": "Vérifié",
        "continue": "Continuer",
        "enter_email": "Entrez votre adresse courriel.",
        "check_email": "Consultez vos courriels",
        "reset_subject": "Choisissez un nouveau mot de passe Passerelle",
        "choose": "Choisir un nouveau mot de passe",
        "new_password": "Nouveau mot de passe",
        "confirm_password": "Confirmez votre nouveau mot de passe",
        "change": "Modifier mon mot de passe",
        "mismatch": "Les deux mots de passe ne correspondent pas.",
        "changed": "Votre mot de passe a été modifié",
        "changed_subject": "Votre mot de passe Passerelle a été modifié",
        "sign_in": "Ouvrir une session",
        "password": "Mot de passe",
        "account": "Votre compte",
        "unusable": "Ce lien ne peut pas être utilisé",
        "ask_again": "Demander un nouveau lien",
    },
    "en": {
        "cant": "Can't sign in?",
        "email": "Email address",
        "robot": "I am not a robot",
        "verified": "Verified",
        "continue": "Continue",
        "enter_email": "Enter your email address.",
        "check_email": "Check your email",
        "reset_subject": "Choose a new Passerelle password",
        "choose": "Choose a new password",
        "new_password": "New password",
        "confirm_password": "Confirm your new password",
        "change": "Change my password",
        "mismatch": "The two passwords do not match.",
        "changed": "Your password was changed",
        "changed_subject": "Your Passerelle password was changed",
        "sign_in": "Sign in",
        "password": "Password",
        "account": "Your account",
        "unusable": "This link cannot be used",
        "ask_again": "Ask for a new link",
    },
}


def speak(page: Page, live_server, locale: str) -> None:
    page.context.add_cookies([{"name": "passerelle_lang", "value": locale, "url": live_server.url}])


def check_page(page: Page, axe, heading: str, what: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page).to_have_title(re.compile(r"\S.* – Passerelle$"))
    axe.assert_accessible(page, what)


def solve_robot(page: Page, text: dict) -> None:
    checkbox = page.get_by_role("checkbox", name=text["robot"])
    checkbox.focus()
    page.keyboard.press("Space")  # with the keyboard, as a person without a mouse would
    expect(page.get_by_text(text["verified"], exact=True)).to_be_visible()


def sign_in(page: Page, mailbox, text: dict, email: str, password: str) -> None:
    """The sign-in page in front of us: password, then the emailed code, then the terms."""
    before = len(mailbox.to(email))
    page.get_by_label(text["email"], exact=True).fill(email)
    page.get_by_label(text["password"], exact=True).fill(password)
    page.get_by_role("button", name=text["sign_in"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/signin/code$"))
    code = code_in(mailbox.wait_for(email, count=before + 1, timeout=MAIL_TIMEOUT))
    page.locator("input[name=code]").fill(code)
    page.locator("form[action$='/signin/code'] button[type=submit]").click()
    page.wait_for_load_state()
    if page.url.endswith("/signin/terms"):
        page.locator("button[name=decision][value=accept]").click()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_cant_sign_in_then_reset_then_sign_in(page, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    person = create_person(live_server.app)
    speak(page, live_server, locale)

    page.goto("/signin")
    page.get_by_role("link", name=text["cant"], exact=True).click()
    check_page(page, axe, text["cant"], f"can't sign in? ({locale})")

    page.get_by_role("button", name=text["continue"]).click()  # nothing filled in
    expect(page.locator(".error-summary")).to_contain_text(text["enter_email"])
    axe.assert_accessible(page, f"can't sign in? with errors ({locale})")

    page.get_by_label(text["email"], exact=True).fill(person.email.upper())
    solve_robot(page, text)
    axe.assert_accessible(page, f"can't sign in?, filled in ({locale})")
    page.get_by_role("button", name=text["continue"]).click()
    check_page(page, axe, text["check_email"], f"check your email ({locale})")

    message = mailbox.wait_for(person.email, timeout=MAIL_TIMEOUT)
    assert message["Subject"] == text["reset_subject"]
    page.goto(path_of_link(message, "/signin/reset/"))
    expect(page).to_have_url(f"{live_server.url}/signin/reset")  # the token left the address bar
    check_page(page, axe, text["choose"], f"choose a new password ({locale})")

    page.get_by_label(text["new_password"], exact=True).fill(NEW_PASSWORD)
    page.get_by_label(text["confirm_password"], exact=True).fill(NEW_PASSWORD + "?")
    page.get_by_role("button", name=text["change"]).click()
    expect(page.locator(".error-summary")).to_contain_text(text["mismatch"])
    axe.assert_accessible(page, f"choose a new password, with errors ({locale})")

    page.get_by_label(text["new_password"], exact=True).fill(NEW_PASSWORD)
    page.get_by_label(text["confirm_password"], exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name=text["change"]).click()
    check_page(page, axe, text["changed"], f"your password was changed ({locale})")
    notice = mailbox.wait_for(person.email, count=2, timeout=MAIL_TIMEOUT)
    assert notice["Subject"] == text["changed_subject"]

    page.get_by_role("link", name=text["sign_in"], exact=True).click()
    sign_in(page, mailbox, text, person.email, NEW_PASSWORD)
    check_page(page, axe, text["account"], f"the account after the reset ({locale})")

    # The link worked once: opening it again says so, and offers a new one.
    page.goto(path_of_link(message, "/signin/reset/"))
    check_page(page, axe, text["unusable"], f"a used reset link ({locale})")
    expect(page.get_by_role("link", name=text["ask_again"])).to_have_attribute("href", "/signin/help")


RECOVER_TEXT = {
    "fr": {
        "lost": "Ces méthodes cesseront de fonctionner pour votre compte dès que vous entrerez un code de récupération",
        "app": "Application d'authentification",
        "recovered_subject": "Votre compte Passerelle a été récupéré",
    },
    "en": {
        "lost": "These stop working for your account as soon as you enter a recovery code",
        "app": "Authenticator app",
        "recovered_subject": "Your Passerelle account was recovered",
    },
}


@pytest.mark.settings(MFA_REQUIRED=True)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_recover_with_a_code_then_the_lost_app_no_longer_works(page, live_server, mailbox, clock, axe, locale):
    """Issue 9 item 15: the recover page says the lost app stops working; after recovering
    and setting up a new app, a code from the lost one is refused and the new one works."""
    import pyotp

    from tests.browser.test_signin import open_signin, submit_signin
    from tests.browser.test_two_factor import TEXT as TWO_FACTOR, accept_terms_if_asked, heading, set_up_app, sign_in_again

    text, words = TWO_FACTOR[locale], RECOVER_TEXT[locale]
    person = create_person(live_server.app)
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password)
    old_secret, codes = set_up_app(page, axe, clock, text, f"before recovery, {locale}")
    accept_terms_if_asked(page, locale)
    heading(page, text["account"])

    clock.advance(seconds=60)
    sign_in_again(page, live_server, locale, person)
    page.get_by_role("link", name=text["other"]).click()
    page.get_by_role("link", name=text["recover"]).click()
    heading(page, text["recover_heading"])
    expect(page.get_by_text(words["lost"])).to_be_visible()
    expect(page.locator(".notice li")).to_have_text([words["app"]])
    axe.assert_accessible(page, f"recover: what stops working ({locale})")
    sent_before = len(mailbox.to(person.email))
    page.get_by_label(text["recovery_code"], exact=True).fill(codes[0])
    page.get_by_role("button", name=text["recover"], exact=True).click()
    clock.advance(seconds=30)
    new_secret, _new_codes = set_up_app(page, axe, clock, text, f"after recovery, {locale}")
    heading(page, text["account"])
    mailbox.wait_for(person.email, count=sent_before + 2, timeout=MAIL_TIMEOUT)  # recovered, then set up
    assert words["recovered_subject"] in [message["Subject"] for message in mailbox.to(person.email)[sent_before:]]

    # Whoever holds the lost phone: its code is refused. The new app signs in.
    clock.advance(seconds=60)
    sign_in_again(page, live_server, locale, person)
    heading(page, text["app_heading"])
    page.locator("input[name=code]").fill(pyotp.TOTP(old_secret).at(clock()))
    page.get_by_role("button", name=text["validate"], exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    axe.assert_accessible(page, f"the lost app's code refused ({locale})")
    clock.advance(seconds=60)
    page.locator("input[name=code]").fill(pyotp.TOTP(new_secret).at(clock()))
    page.get_by_role("button", name=text["validate"], exact=True).click()
    accept_terms_if_asked(page, locale)
    heading(page, text["account"])
