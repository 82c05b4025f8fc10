"""Security keys in real Chromium, in French and English, with axe-core on the set-up and
sign-in pages: a person sets up a key at their first sign-in, then signs in with it again.

The key is Chromium's DevTools virtual authenticator (CTAP2 over USB, resident keys, user
verification). Browsers refuse an IP address as a WebAuthn RP id, so this test serves the
IdP as http://localhost:PORT (a potentially trustworthy origin, so http is allowed) and its
issuer, hence its RP id, is "localhost".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.support import create_person, finish_signin_steps
from tests.browser.test_signin import open_signin, submit_signin
from tests.conftest import build_app
from tests.support import LiveServer

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "setup_title": "Configurer l'authentification à deux facteurs – Passerelle",
        "key_choice": "Une clé de sécurité ou une clé d’accès",
        "continue": "Continuer",
        "setup_key": "Configurez votre clé de sécurité",
        "cancelled": "La clé de sécurité n’a pas été configurée : la demande a été annulée ou a pris trop de temps.",
        "nickname": "Nom de la clé (facultatif)",
        "set_up_key": "Configurer ma clé de sécurité",
        "save_codes": "Conservez vos codes de récupération",
        "saved": "J'ai conservé mes codes, continuer",
        "use_key_title": "Utilisez votre clé de sécurité – Passerelle",
        "use_key": "Utiliser ma clé de sécurité",
        "account": "Votre compte",
    },
    "en": {
        "setup_title": "Set up two-factor authentication – Passerelle",
        "key_choice": "A security key or passkey",
        "continue": "Continue",
        "setup_key": "Set up your security key",
        "cancelled": "The security key was not set up: the request was cancelled or took too long.",
        "nickname": "Name of the key (optional)",
        "set_up_key": "Set up my security key",
        "save_codes": "Save your recovery codes",
        "saved": "I saved my codes, continue",
        "use_key_title": "Use your security key – Passerelle",
        "use_key": "Use my security key",
        "account": "Your account",
    },
}


@pytest.fixture
def localhost_server(request, database_uri, clock) -> Iterator[LiveServer]:
    """The live IdP as http://localhost:PORT, its issuer (and so its RP id) matching."""
    server = LiveServer()
    server.url = f"http://localhost:{server.port}"
    app = build_app(database_uri, clock, issuer=server.url, MFA_REQUIRED=True)
    server.start(app)
    yield server
    server.stop()
    from idp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def key_page(browser: Browser, localhost_server) -> Iterator[Page]:
    """A fresh profile on the localhost server, with a virtual security key plugged in."""
    context = browser.new_context(base_url=localhost_server.url, locale="en-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    page.virtual_key = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})["authenticatorId"]
    page.devtools = devtools
    yield page
    context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_set_up_a_security_key_then_sign_in_with_it(key_page, localhost_server, axe, locale):
    page, text = key_page, TEXT[locale]
    person = create_person(localhost_server.app)
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password)  # the emailed code, first time

    expect(page).to_have_url(re.compile(r"/signin/setup$"))
    expect(page).to_have_title(text["setup_title"])
    axe.assert_accessible(page, f"the two-factor set-up choice ({locale})")
    page.get_by_label(text["key_choice"], exact=True).check()
    page.get_by_role("button", name=text["continue"], exact=True).click()

    expect(page).to_have_url(re.compile(r"/signin/setup/security-key$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(text["setup_key"])
    button = page.get_by_role("button", name=text["set_up_key"], exact=True)
    expect(button).to_be_visible()  # the script found WebAuthn and showed its button
    axe.assert_accessible(page, f"the security key set-up ({locale})")
    # The person says no to the browser (here: the key cannot verify them): a message, focused.
    page.devtools.send("WebAuthn.setUserVerified", {"authenticatorId": page.virtual_key, "isUserVerified": False})
    button.click()
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text(text["cancelled"])
    expect(problem).to_be_focused()
    axe.assert_accessible(page, f"the security key set-up after a cancelled ceremony ({locale})")
    page.devtools.send("WebAuthn.setUserVerified", {"authenticatorId": page.virtual_key, "isUserVerified": True})
    page.get_by_label(text["nickname"], exact=True).fill("YubiKey")
    button.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(text["save_codes"])
    with page.expect_navigation():
        page.get_by_role("button", name=text["saved"], exact=True).click()
    finish_signin_steps(page, locale, person.email, 0)  # the terms
    expect(page.get_by_role("heading", level=1)).to_have_text(text["account"])
    with localhost_server.app.app_context():
        from idp.extensions import db
        from idp.mfa.models import WebAuthnCredential

        assert db.session.scalars(select(WebAuthnCredential.nickname)).all() == ["YubiKey"]

    # Another sign-in: the key is asked for, and nothing is emailed.
    page.context.clear_cookies()
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password, finish=False)
    expect(page).to_have_url(re.compile(r"/signin/security-key$"))
    expect(page).to_have_title(text["use_key_title"])
    use = page.get_by_role("button", name=text["use_key"], exact=True)
    expect(use).to_be_visible()
    axe.assert_accessible(page, f"the security key sign-in ({locale})")
    use.click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(text["account"])
    with localhost_server.app.app_context():
        from idp.extensions import db
        from idp.signin.models import UserSession

        latest = db.session.scalars(select(UserSession).order_by(UserSession.id.desc())).first()
        assert latest.acr == "urn:passerelle:acr:mfa-phr" and "hwk" in latest.amr


def test_without_webauthn_the_page_says_to_choose_another_method(browser, localhost_server):
    """A browser without JavaScript: the notice, no button."""
    context = browser.new_context(base_url=localhost_server.url, locale="en-CA", java_script_enabled=False)
    page = context.new_page()
    try:
        from tests.signin_support import signin_codes_sent, wait_for_signin_code

        person = create_person(localhost_server.app)
        codes_before = signin_codes_sent(person.email)
        page.goto("/signin")
        page.get_by_label("Email address", exact=True).fill(person.email)
        page.get_by_label("Password", exact=True).fill(person.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        code = wait_for_signin_code(person.email, codes_before, timeout=30)  # from the SMTP server
        page.get_by_label("Verification code", exact=True).fill(code)
        page.get_by_role("button", name="Validate the code", exact=True).click()
        page.goto("/signin/setup/security-key")
        expect(page.get_by_text("needs JavaScript")).to_be_visible()
        expect(page.get_by_role("button", name="Set up my security key")).to_be_hidden()
        expect(page.get_by_role("link", name="Choose another method")).to_be_visible()
    finally:
        context.close()


KEYS_TEXT = {
    "fr": {
        "manage": "Gérer votre authentification à deux facteurs",
        "add_key": "Ajouter une clé de sécurité ou une clé d'accès",
        "key_set_up": "Votre clé de sécurité est configurée.",
        "yubikey": "Clé de sécurité «\u00a0YubiKey\u00a0»",
        "laptop": "Clé d'accès «\u00a0Portable du bureau\u00a0»",
    },
    "en": {
        "manage": "Manage two-factor authentication",
        "add_key": "Add a security key or passkey",
        "key_set_up": "Your security key is set up.",
        "yubikey": "Security key “YubiKey”",
        "laptop": "Passkey “Portable du bureau”",
    },
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_two_keys_are_named_apart_on_the_account_home_and_the_manage_page(key_page, localhost_server, axe, locale):
    """Issue 9 item 17: each key by its nickname and kind, no empty or dangling entry."""
    page, text, words = key_page, TEXT[locale], KEYS_TEXT[locale]
    person = create_person(localhost_server.app)
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password)
    page.get_by_label(text["key_choice"], exact=True).check()
    page.get_by_role("button", name=text["continue"], exact=True).click()
    page.get_by_label(text["nickname"], exact=True).fill("YubiKey")
    page.get_by_role("button", name=text["set_up_key"], exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name=text["saved"], exact=True).click()
    finish_signin_steps(page, locale, person.email, 0)
    expect(page.get_by_role("heading", level=1)).to_have_text(text["account"])

    # A second key: a passkey kept in this computer (the USB key unplugged first).
    page.devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": page.virtual_key})
    page.devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    page.get_by_role("link", name=words["manage"]).click()
    page.get_by_role("link", name=words["add_key"]).click()
    page.get_by_label(text["nickname"], exact=True).fill("Portable du bureau")
    page.get_by_role("button", name=text["set_up_key"], exact=True).click()
    expect(page.get_by_text(words["key_set_up"])).to_be_visible()

    rows = page.locator("table.data-table tbody tr td:first-child")
    expect(rows).to_have_text([re.compile(re.escape(words["yubikey"])), re.compile(re.escape(words["laptop"]))])
    axe.assert_accessible(page, f"manage two-factor with two keys ({locale})")
    page.goto("/account")
    methods = page.locator(".summary-list__row", has=page.locator("dt", has_text=re.compile("Méthodes|Methods")))
    expect(methods.locator("li")).to_have_text([re.compile(re.escape(words["yubikey"])), re.compile(re.escape(words["laptop"]))])
    expect(methods.locator("dd")).not_to_contain_text(",")
    axe.assert_accessible(page, f"the account home with two keys ({locale})")
