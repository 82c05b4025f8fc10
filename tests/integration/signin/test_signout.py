"""Signing out ends the server-side session, not just the cookie (SES-02, HDR-05)."""

from __future__ import annotations

from idp.signin import current
from tests.integration.signin.support import SignIn, csrf_token, in_browser_request, make_user


def test_signing_out_ends_the_session_so_a_replayed_cookie_is_unauthenticated(app, client):
    make_user(app)
    browser = SignIn(client)
    browser.sign_in()
    captured = browser.session_handle
    response = browser.sign_out()
    assert response.status_code == 303 and response.headers["Location"] == "/signout"
    assert browser.session_handle is None
    assert "You are signed out" in client.get("/signout").text
    client.set_cookie("passerelle_session", captured)
    assert client.get("/account").status_code == 303
    with in_browser_request(app, client):
        assert current.current_session() is None


def test_signing_out_needs_a_csrf_token(app, client):
    make_user(app)
    browser = SignIn(client)
    browser.sign_in()
    response = client.post("/signout")
    assert response.status_code in (400, 403)
    assert client.get("/account").status_code == 200


def test_the_sign_out_page_itself_changes_nothing(app, client):
    make_user(app)
    browser = SignIn(client)
    browser.sign_in()
    page = client.get("/signout")
    assert page.status_code == 200
    assert 'action="/signout"' in page.text and csrf_token(page.text)
    assert client.get("/account").status_code == 200


def test_signing_out_without_a_session_is_harmless(client):
    SignIn(client)
    page = client.get(client.get("/signin").headers["Location"])
    response = client.post("/signout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
