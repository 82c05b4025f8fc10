"""Two-factor in real Chromium, in French and English, axe-core on every page (seed 002):
set up an authenticator app at the first sign-in (the key read from the page), keep the
recovery codes, sign in with the app, recover the account with a recovery code (which sets
two-factor up again), then manage it from the account page: new codes, another method,
change the default, remove the old one."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import create_person
from tests.browser.test_signin import open_signin, submit_signin

pytestmark = [pytest.mark.browser, pytest.mark.settings(MFA_REQUIRED=True)]

TEXT = {
    "fr": {
        "setup": "Configurer l'authentification à deux facteurs",
        "app_choice": "Une application d'authentification",
        "continue": "Continuer",
        "setup_app": "Configurer votre application d'authentification",
        "app_code": "Code de l'application",
        "confirm_app": "Confirmer l'application",
        "save_codes": "Conservez vos codes de récupération",
        "saved": "J'ai conservé mes codes, continuer",
        "account": "Votre compte",
        "app_heading": "Entrez le code de votre application d'authentification",
        "validate": "Valider le code",
        "other": "Utiliser une autre méthode ou récupérer votre compte",
        "methods": "Choisissez comment confirmer votre identité",
        "recover": "Récupérer le compte",
        "recover_heading": "Récupérer votre compte",
        "recovery_code": "Code de récupération",
        "manage": "Gérer votre authentification à deux facteurs",
        "new_codes": "Générer de nouveaux codes de récupération",
        "use_email": "Utiliser les codes envoyés par courriel",
        "make_default": "Définir par défaut : Code envoyé par courriel",
        "remove_app": "Retirer « Application d'authentification »",
    },
    "en": {
        "setup": "Set up two-factor authentication",
        "app_choice": "An authenticator app",
        "continue": "Continue",
        "setup_app": "Set up your authenticator app",
        "app_code": "Code from the app",
        "confirm_app": "Confirm the app",
        "save_codes": "Save your recovery codes",
        "saved": "I saved my codes, continue",
        "account": "Your account",
        "app_heading": "Enter the code from your authenticator app",
        "validate": "Validate the code",
        "other": "Use another method or recover your account",
        "methods": "Choose how to confirm it is you",
        "recover": "Recover account",
        "recover_heading": "Recover your account",
        "recovery_code": "Recovery code",
        "manage": "Manage two-factor authentication",
        "new_codes": "Generate new recovery codes",
        "use_email": "Use codes sent by email",
        "make_default": "Make default: Code sent by email",
        "remove_app": "Remove “Authenticator app”",
    },
}


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def set_up_app(page: Page, axe, clock, text: dict, what: str) -> tuple[str, list[str]]:
    """From the set-up page: choose the app, read the key, confirm; returns key and codes."""
    heading(page, text["setup"])
    axe.assert_accessible(page, f"set up two-factor ({what})")
    page.get_by_label(text["app_choice"], exact=True).check()
    page.get_by_role("button", name=text["continue"], exact=True).click()
    heading(page, text["setup_app"])
    expect(page.locator(".qr-code svg")).to_be_visible()
    axe.assert_accessible(page, f"set up the app ({what})")
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    page.get_by_label(text["app_code"], exact=True).fill(pyotp.TOTP(secret).at(clock()))
    page.get_by_role("button", name=text["confirm_app"], exact=True).click()
    heading(page, text["save_codes"])
    axe.assert_accessible(page, f"the recovery codes ({what})")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    expect(page.get_by_role("button", name=re.compile("Print|Imprimer"))).to_be_visible()  # the script showed it
    page.get_by_role("button", name=text["saved"], exact=True).click()
    return secret, codes


def sign_in_again(page: Page, live_server, locale: str, person) -> None:
    page.context.clear_cookies()
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password, finish=False)


def accept_terms_if_asked(page: Page, locale: str) -> None:
    if page.url.endswith("/signin/terms"):
        page.locator("button[name=decision][value=accept]").click()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_set_up_the_app_sign_in_with_it_and_recover_with_a_code(page, live_server, clock, axe, locale):
    text = TEXT[locale]
    person = create_person(live_server.app)
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password)  # password, then the emailed code
    _secret, codes = set_up_app(page, axe, clock, text, f"first sign-in, {locale}")
    accept_terms_if_asked(page, locale)
    heading(page, text["account"])

    # The next sign-in asks for the app; the person lost it and recovers with a code.
    clock.advance(seconds=60)
    sign_in_again(page, live_server, locale, person)
    heading(page, text["app_heading"])
    axe.assert_accessible(page, f"the app's code ({locale})")
    page.get_by_role("link", name=text["other"]).click()
    heading(page, text["methods"])
    axe.assert_accessible(page, f"other methods ({locale})")
    page.get_by_role("link", name=text["recover"]).click()
    heading(page, text["recover_heading"])
    page.get_by_label(text["recovery_code"], exact=True).fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name=text["recover"], exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    axe.assert_accessible(page, f"recover, wrong code ({locale})")
    clock.advance(seconds=60)  # past the progressive delay
    page.get_by_label(text["recovery_code"], exact=True).fill(codes[0].lower())
    page.get_by_role("button", name=text["recover"], exact=True).click()
    # Recovery leads to a new set-up, with a new key and new codes.
    clock.advance(seconds=30)
    _new_secret, new_codes = set_up_app(page, axe, clock, text, f"after recovery, {locale}")
    assert not set(new_codes) & set(codes)
    heading(page, text["account"])


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_manage_new_codes_add_email_make_it_default_remove_the_app(page, live_server, clock, axe, locale):
    text = TEXT[locale]
    person = create_person(live_server.app)
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password)
    set_up_app(page, axe, clock, text, f"manage, {locale}")
    accept_terms_if_asked(page, locale)
    page.get_by_role("link", name=text["manage"]).click()
    heading(page, text["manage"])
    axe.assert_accessible(page, f"manage two-factor ({locale})")
    page.get_by_role("button", name=text["new_codes"]).click()
    heading(page, text["save_codes"])
    page.get_by_role("link", name=text["saved"]).click()
    page.get_by_role("button", name=text["use_email"]).click()
    page.get_by_role("button", name=text["make_default"]).click()
    page.get_by_role("button", name=text["remove_app"]).click()
    heading(page, text["manage"])
    expect(page.get_by_role("button", name=text["remove_app"])).to_have_count(0)
    axe.assert_accessible(page, f"manage two-factor after the changes ({locale})")
