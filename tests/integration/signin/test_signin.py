"""The sign-in page through the test client: success, failure without enumeration, CSRF,
session rotation and expired transactions."""

from __future__ import annotations

import re

import pytest

from tests.integration.signin.support import PASSWORD, SignIn, begin, cookie_value, csrf_token, make_user


@pytest.fixture
def user_id(app):
    return make_user(app)


@pytest.fixture
def browser(client):
    return SignIn(client)


def test_the_right_password_starts_a_session_and_returns_to_the_account(client, browser, user_id):
    response = browser.sign_in()
    assert response.headers["Location"] == "/account"
    assert browser.session_handle
    set_cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "passerelle_session=" in set_cookies and "HttpOnly" in set_cookies and "SameSite=Lax" in set_cookies
    account = client.get("/account")
    assert account.status_code == 200
    assert "ana@example.ca" in account.text


def without_csrf(html: str) -> str:
    return re.sub(r'value="[^"]+" *>', "", html.replace(csrf_token(html), ""))


def test_unknown_email_and_wrong_password_get_the_same_answer(app, user_id):
    answers = []
    for email, password in (("ana@example.ca", "not the password"), ("nobody@example.ca", PASSWORD)):
        client = app.test_client()
        browser = SignIn(client)
        response = browser.submit(email, password, browser.start())
        answers.append(response)
        assert response.status_code == 422
        assert "Incorrect email or password." in response.text
        assert cookie_value(client, "passerelle_session") is None
    wrong_password, unknown_email = answers
    assert without_csrf(wrong_password.text).replace("ana@example.ca", "X") == without_csrf(
        unknown_email.text
    ).replace("nobody@example.ca", "X")
    assert [c.split("=")[0] for c in wrong_password.headers.getlist("Set-Cookie")] == [
        c.split("=")[0] for c in unknown_email.headers.getlist("Set-Cookie")
    ]


def test_empty_fields_are_listed_in_an_error_summary_that_links_to_them(client, browser, user_id):
    page = browser.start()
    response = client.post("/signin", data={"csrf_token": csrf_token(page.text), "email": "", "password": ""})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert 'href="#email"' in response.text and 'href="#password"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<title>Error: Sign in" in response.text


def test_a_post_without_csrf_token_is_refused_and_signs_nobody_in(client, browser, user_id):
    browser.start()
    response = client.post("/signin", data={"email": "ana@example.ca", "password": PASSWORD})
    assert response.status_code in (400, 403)
    assert "Traceback" not in response.text
    assert browser.session_handle is None
    assert client.get("/account").status_code == 303


def test_a_new_sign_in_replaces_the_session_cookie(client, browser, user_id):
    """SES-03: the handle changes on every authentication; the previous one stops working."""
    browser.sign_in()
    first_handle = browser.session_handle
    # prompt=login: the OIDC layer asks for the password again although a session exists.
    begin(client.application, client, force_login=True, return_to="/account")
    response = browser.submit()
    assert response.status_code == 303
    second_handle = browser.session_handle
    assert second_handle and second_handle != first_handle
    client.set_cookie("passerelle_session", first_handle)
    assert client.get("/account").status_code == 303


def test_a_planted_session_cookie_is_worthless_after_signing_in(client, browser, user_id):
    client.set_cookie("passerelle_session", "attacker-chosen-value")
    browser.sign_in()
    assert browser.session_handle != "attacker-chosen-value"
    assert client.get("/account").status_code == 200


def test_login_hint_fills_in_the_email_field(app, client, user_id):
    begin(app, client, login_hint="ana@example.ca")
    page = client.get("/signin")
    assert 'value="ana@example.ca"' in page.text


def test_a_local_return_path_is_followed_after_sign_in(client, browser, user_id):
    page = client.get(client.get("/signin?next=/help").headers["Location"])
    response = browser.submit(page=page)
    assert response.headers["Location"] == "/help"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_a_foreign_return_address_is_ignored(client, browser, user_id, target):
    page = client.get(client.get("/signin", query_string={"next": target}).headers["Location"])
    response = browser.submit(page=page)
    assert response.headers["Location"] == "/account"


def test_an_expired_sign_in_shows_a_page_to_start_again(client, browser, clock, app, user_id):
    page = browser.start()
    clock.advance(app.config["SIGNIN_TRANSACTION_TTL"] + 1)
    response = client.post("/signin", data={"csrf_token": csrf_token(page.text), "email": "ana@example.ca", "password": PASSWORD})
    assert response.status_code == 400
    assert 'href="/account"' in response.text
    assert browser.session_handle is None


def test_an_unknown_sign_in_cookie_shows_a_page_to_start_again(client):
    client.set_cookie("passerelle_signin", "forged")
    response = client.get("/signin")
    assert response.status_code == 400
    assert 'href="/account"' in response.text


def test_a_finished_local_sign_in_cannot_be_replayed(client, browser, user_id):
    page = browser.start()
    signin_handle = cookie_value(client, "passerelle_signin")
    browser.submit(page=page)
    client.set_cookie("passerelle_signin", signin_handle)
    response = client.post("/signin", data={"csrf_token": csrf_token(page.text), "email": "ana@example.ca", "password": PASSWORD})
    assert response.status_code == 400


def test_the_session_ends_after_the_idle_timeout(client, browser, clock, app, user_id):
    browser.sign_in()
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] - 60)
    assert client.get("/account").status_code == 200
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] - 60)
    assert client.get("/account").status_code == 200
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"])
    assert client.get("/account").status_code == 303


def test_ui_locales_set_the_language_of_the_sign_in(app, client):
    begin(app, client, ui_locale="en")
    page = client.get("/signin")
    assert '<html lang="en">' in page.text
    begin(app, client, ui_locale="fr-CA")
    assert '<html lang="fr">' in client.get("/signin").text


@pytest.mark.settings(SESSION_COOKIE_SECURE=True)
def test_over_https_every_cookie_is_host_prefixed_and_secure(app, user_id):
    client = app.test_client()
    response = client.get("/account", base_url="https://127.0.0.1")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-passerelle_signin=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_visiting_the_sign_in_page_while_signed_in_goes_straight_back(client, browser, user_id):
    browser.sign_in()
    response = client.get("/signin?next=/help")
    assert response.status_code == 303 and response.headers["Location"] == "/help"
    assert cookie_value(client, "passerelle_signin") is None
    # Signed out later, the sign-in page starts afresh rather than calling the old one expired.
    browser.sign_out()
    assert client.get("/signin").status_code == 303
