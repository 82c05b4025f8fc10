"""Authorization requests in a real browser: ui_locales, the consent page and a complete
form_post journey to a relying party on another loopback port."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.support import RedirectReceiver, create_client, create_person
from tests.browser.test_signin import TEXT, submit_signin

pytestmark = pytest.mark.browser

CONSENT = {
    "fr": {
        "title": "Communiquer vos renseignements – Passerelle",
        "heading": "Portail des documents demande l'accès à vos renseignements",
        "name": "Votre nom.",
        "allow": "Autoriser",
        "deny": "Refuser",
    },
    "en": {
        "title": "Share your information – Passerelle",
        "heading": "Portail des documents asks to access your information",
        "name": "Your name.",
        "allow": "Allow",
        "deny": "Deny",
    },
}
OTHER = {"fr": "en", "en": "fr"}


@pytest.fixture
def receiver() -> Iterator[RedirectReceiver]:
    receiver = RedirectReceiver().start()
    yield receiver
    receiver.stop()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_url(client_id: str, redirect_uri: str, **params: str) -> str:
    """An authorization request as a client sends it, PKCE included (every client must
    send it, issue 9 item 7); a test that redeems the code passes its own challenge."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        **params,
    }
    return "/authorize?" + urlencode(query)


def open_page(browser, live_server, browser_locale: str) -> Page:
    context = browser.new_context(base_url=live_server.url, locale=browser_locale)
    context.set_default_timeout(15_000)
    return context.new_page()


def watch_csp(page: Page) -> list[str]:
    """Chromium's console reports of what the page's CSP blocked, for failure messages."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    return blocked


def wait_for_response(receiver: RedirectReceiver, page: Page, blocked: list[str]) -> dict[str, str]:
    """The authorization response the client received; on failure, say what CSP blocked.

    Chromium applies the submitting page's form-action to every redirect that follows a form
    POST, so a sign-in or consent page whose CSP says form-action 'self' cannot 303 the
    browser on to the client's redirect URI.
    """
    try:
        return receiver.wait(page)
    except AssertionError as error:
        raise AssertionError(f"{error}; Chromium's CSP reports: {blocked or 'none'}") from None


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_ui_locales_chooses_the_sign_in_language_over_the_browser(browser, live_server, receiver, axe, locale):
    """The client's ui_locales wins over Accept-Language (OIDC Core §3.1.2.1)."""
    client_id, _ = create_client(live_server.app, receiver.url)
    page = open_page(browser, live_server, f"{OTHER[locale]}-CA")
    try:
        page.goto(authorization_url(client_id, receiver.url, ui_locales=f"{locale}-CA {OTHER[locale]}"))

        expect(page).to_have_url(re.compile(r"/signin$"))
        expect(page.locator("html")).to_have_attribute("lang", locale)
        expect(page).to_have_title(TEXT[locale]["title"])
        expect(page.get_by_role("heading", level=1)).to_have_text(TEXT[locale]["heading"])
        axe.assert_accessible(page, f"the sign-in page from ui_locales={locale}")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_consent_page_is_translated_accessible_and_allow_returns_a_code(browser, live_server, receiver, axe, locale):
    person = create_person(live_server.app)
    client_id, _ = create_client(live_server.app, receiver.url, name="Portail des documents", require_consent=True)
    page = open_page(browser, live_server, f"{OTHER[locale]}-CA")
    blocked = watch_csp(page)
    try:
        state = secrets.token_urlsafe(16)
        page.goto(authorization_url(client_id, receiver.url, state=state, ui_locales=locale))
        submit_signin(page, locale, person.email, person.password)

        text = CONSENT[locale]
        expect(page).to_have_url(re.compile(r"/signin/consent$"))
        expect(page).to_have_title(text["title"])
        expect(page.get_by_role("heading", level=1)).to_have_text(text["heading"])
        expect(page.get_by_role("listitem").filter(has_text=text["name"])).to_be_visible()
        axe.assert_accessible(page, f"the consent page ({locale})")

        page.get_by_role("button", name=text["allow"], exact=True).click()

        response = wait_for_response(receiver, page, blocked)
        assert response["method"] == "GET"
        assert response["state"] == state
        assert response["code"]
        assert response["iss"] == live_server.url
    finally:
        page.context.close()


def test_denied_consent_returns_access_denied_to_the_client(page, live_server, receiver):
    person = create_person(live_server.app)
    client_id, _ = create_client(live_server.app, receiver.url, name="Portail des documents", require_consent=True)
    state = secrets.token_urlsafe(16)
    blocked = watch_csp(page)
    page.goto(authorization_url(client_id, receiver.url, state=state, ui_locales="en"))
    submit_signin(page, "en", person.email, person.password)

    page.get_by_role("button", name=CONSENT["en"]["deny"], exact=True).click()

    response = wait_for_response(receiver, page, blocked)
    assert response["error"] == "access_denied"
    assert response["state"] == state
    assert "code" not in response


def test_query_mode_journey_returns_the_code_to_the_client_after_sign_in(page, live_server, receiver):
    """The default response mode: the sign-in form's POST ends in a redirect to the client."""
    person = create_person(live_server.app)
    client_id, _ = create_client(live_server.app, receiver.url)
    state = secrets.token_urlsafe(16)
    blocked = watch_csp(page)
    page.goto(authorization_url(client_id, receiver.url, state=state, ui_locales="en"))

    submit_signin(page, "en", person.email, person.password)

    response = wait_for_response(receiver, page, blocked)
    assert response["method"] == "GET"
    assert response["state"] == state
    assert response["code"]
    expect(page).to_have_url(re.compile(re.escape(receiver.url) + r"\?"))


def test_form_post_journey_delivers_a_code_the_client_can_redeem(page, live_server, receiver, axe):
    """Sign in for a client with response_mode=form_post: the IdP's page posts the code and
    state to the client's redirect URI by itself, and the code is good at the token endpoint."""
    person = create_person(live_server.app)
    client_id, client_secret = create_client(live_server.app, receiver.url)
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)

    page.goto(
        authorization_url(
            client_id, receiver.url, state=state, nonce=nonce, response_mode="form_post",
            code_challenge=challenge, code_challenge_method="S256", ui_locales="fr",
        )
    )
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    axe.assert_accessible(page, "the sign-in page of an authorization request")
    blocked = watch_csp(page)
    submit_signin(page, "fr", person.email, person.password)

    response = wait_for_response(receiver, page, blocked)
    expect(page).to_have_url(receiver.url)  # the browser followed its own form to the client
    assert response["method"] == "POST"
    assert response["state"] == state
    assert response["iss"] == live_server.url  # RFC 9207
    token = requests.post(
        f"{live_server.url}/token",
        data={"grant_type": "authorization_code", "code": response["code"], "redirect_uri": receiver.url, "code_verifier": verifier},
        auth=(client_id, client_secret),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    claims = jwt_payload(token.json()["id_token"])
    assert claims["nonce"] == nonce
    assert claims["aud"] in (client_id, [client_id])
    assert claims["iss"] == live_server.url


def jwt_payload(token: str) -> dict:
    """The claims of a JWS compact token (its signature is the token tests' business)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
