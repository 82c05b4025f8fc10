"""The demo relying party on its own: pages, and the authorization request it builds from
the live IdP's discovery document. The full sign-in through it is an OIDC integration test."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from clients.demo_rp import SESSION_COOKIE_NAME, create_app

REDIRECT_URI = "http://127.0.0.1:5001/callback"


@pytest.fixture
def rp(live_server):
    app = create_app(live_server.url, "demo-rp", "not-a-real-secret", REDIRECT_URI, secret_key="insecure-test-rp-key")
    return app.test_client()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("language, button", [("fr", 'lang="fr"'), ("en", "Sign in with Passerelle")])
def test_home_page_renders_in_both_languages(rp, language, button):
    response = rp.get("/", headers={"Accept-Language": language})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert "<title>" in html and button in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_sign_in_sends_pkce_s256_nonce_and_state_to_the_discovered_endpoint(rp, live_server):
    page = rp.get("/", headers={"Accept-Language": "en"})
    response = rp.post("/login", data={"csrf_token": _csrf(page.get_data(as_text=True))})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == live_server.url
    params = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert params["response_type"] == "code" and params["client_id"] == "demo-rp"
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["nonce"] and params["state"]
    assert "openid" in params["scope"].split()
    assert rp.get_cookie(SESSION_COOKIE_NAME) is not None


def test_sign_in_without_csrf_token_is_refused(rp):
    assert rp.post("/login").status_code == 400


def test_callback_with_an_unknown_state_shows_an_error(rp, live_server):
    response = rp.get(f"/callback?code=abc&state=forged&iss={live_server.url}")
    assert response.status_code == 400
    assert 'id="error-message"' in response.get_data(as_text=True)


def test_callback_from_another_issuer_is_refused(rp):
    response = rp.get("/callback?code=abc&state=x&iss=https://evil.example")
    assert response.status_code == 400


def test_callback_with_an_error_from_the_idp_shows_it(rp, live_server):
    response = rp.get(f"/callback?error=access_denied&state=x&iss={live_server.url}")
    assert response.status_code == 400
    assert "access_denied" in response.get_data(as_text=True)


def test_claims_page_needs_a_sign_in(rp):
    assert rp.get("/claims").headers["Location"].endswith("/")


def test_language_switch_stays_on_site(rp):
    assert rp.get("/lang/en?next=//evil.example").headers["Location"] == "/"
    assert rp.get("/lang/en?next=/claims").headers["Location"] == "/claims"
    assert '<html lang="en">' in rp.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
