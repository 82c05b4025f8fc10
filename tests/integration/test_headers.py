"""The security baseline on every response: headers, caching, error pages (HDR-01..07, SES-08)."""

from __future__ import annotations

import pytest
from flask import Response

from idp.web.headers import CONTENT_SECURITY_POLICY, FORM_MAY_LEAVE_SITE_POLICY, is_off_site
from tests.integration.signin.support import csrf_token


def assert_baseline(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert "Server" not in response.headers


@pytest.mark.parametrize("path", ["/help", "/signout", "/account/nowhere"])
def test_html_pages_carry_the_strict_csp_and_no_store(client, path):
    response = client.get(path)
    assert response.mimetype == "text/html"
    assert_baseline(response)
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    for directive in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
                      "form-action 'self'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == "no-store"


def test_the_sign_in_page_carries_the_headers_and_no_inline_script(client):
    page = client.get(client.get("/signin").headers["Location"])
    assert page.status_code == 200
    assert_baseline(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.text and "onclick" not in page.text and "style=" not in page.text


def test_a_404_is_a_translated_page_with_every_header(client):
    client.set_cookie("passerelle_lang", "en")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_baseline(response)
    assert "Content-Security-Policy" in response.headers
    assert "<title>Page not found – Passerelle</title>" in response.text


def test_http_issuer_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/help").headers


@pytest.mark.settings(OIDC_ISSUER="https://login.example.ca")
def test_https_issuer_sends_hsts_on_every_response_including_errors(client):
    for path in ("/help", "/no/such/page", "/static/css/passerelle.css"):
        response = client.get(path)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        response.close()


def test_a_views_own_csp_and_caching_are_kept(app):
    def form_post():
        response = Response("<form></form>", mimetype="text/html")
        response.headers["Content-Security-Policy"] = "default-src 'none'; script-src 'sha256-abc'"
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    app.add_url_rule("/test/own-headers", "test_own_headers", form_post)
    response = app.test_client().get("/test/own-headers")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; script-src 'sha256-abc'"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert_baseline(response)


def test_the_stylesheet_is_not_given_an_html_policy(client):
    response = client.get("/static/css/passerelle.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert_baseline(response)
    assert "Content-Security-Policy" not in response.headers
    response.close()


@pytest.mark.parametrize("path", ["/.well-known/nothing", "/api/nothing", "/jwks/nothing", "/token/nothing"])
def test_machine_endpoints_get_json_errors_not_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "not_found"}
    assert_baseline(response)


def test_a_wrong_method_gets_a_405_page_that_keeps_allow(client):
    response = client.put("/help")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.mimetype == "text/html"


def test_an_oversized_body_gets_a_413_page(client):
    response = client.post("/signin", data={"email": "x" * (128 * 1024)})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def test_a_crash_shows_a_plain_500_page_without_internals(app, caplog):
    def crash():
        raise RuntimeError("secret internals: SELECT * FROM users")

    app.add_url_rule("/test/crash", "test_crash", crash)
    response = app.test_client().get("/test/crash")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert_baseline(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_csrf_failure_is_a_translated_400_page(client):
    client.set_cookie("passerelle_lang", "en")
    client.get(client.get("/signin").headers["Location"])
    response = client.post("/signin", data={"csrf_token": "forged", "email": "a@b.ca", "password": "x"})
    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert_baseline(response)


def test_forms_carry_a_csrf_token(client):
    page = client.get(client.get("/signin").headers["Location"])
    assert csrf_token(page.text)


@pytest.mark.parametrize(
    ("url", "off_site"),
    [
        ("https://rp.example/callback?x=1", True),
        ("http://127.0.0.1:8080/cb", True),
        ("com.example.app:/oauth2redirect", True),
        ("//evil.example/x", True),
        ("/account", False),
        ("", False),
        (None, False),
    ],
)
def test_a_destination_is_off_site_when_absolute(url, off_site):
    assert is_off_site(url) is off_site


def test_a_page_whose_form_may_leave_drops_only_form_action():
    """Issue 9 #13: Chromium checks form-action on every redirect after a POST, which no
    list of origins can bound once an authorization ends. Nothing else is relaxed."""
    strict = set(CONTENT_SECURITY_POLICY.split("; "))
    leaving = set(FORM_MAY_LEAVE_SITE_POLICY.split("; "))
    assert strict - leaving == {"form-action 'self'"} and leaving < strict
