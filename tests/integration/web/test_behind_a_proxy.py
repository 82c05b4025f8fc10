"""Behind the TLS proxy (docs/deployment.md): the proxies counted by PROXY_FIX_X_FOR are
trusted for the client's address and the scheme (Werkzeug's ProxyFix). granian, unlike
gunicorn's forwarded_allow_ips, reads neither; without the scheme Flask-WTF would skip its
strict Referer check on HTTPS forms (issue 9, item 9: granian is now the production server)."""

from __future__ import annotations

import pytest
from flask import request

from tests.integration.signin.support import csrf_token


def add_echo_route(app):
    app.add_url_rule("/test/echo", "test_echo", lambda: {"scheme": request.scheme, "address": request.remote_addr})


@pytest.mark.settings(PROXY_FIX_X_FOR=1, OIDC_ISSUER="https://login.example.ca")
def test_the_proxy_s_scheme_and_address_are_trusted(app):
    add_echo_route(app)
    response = app.test_client().get("/test/echo", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert response.get_json() == {"scheme": "https", "address": "203.0.113.9"}


@pytest.mark.settings(PROXY_FIX_X_FOR=1, OIDC_ISSUER="https://login.example.ca")
def test_a_form_posted_over_https_through_the_proxy_needs_a_same_origin_referer(client):
    page = client.get("/signin", headers={"X-Forwarded-Proto": "https"}, follow_redirects=True)
    assert page.status_code == 200
    response = client.post(page.request.path, data={"csrf_token": csrf_token(page.text), "email": "a@example.ca"},
                           headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 400  # no Referer: Flask-WTF's strict check over HTTPS


def test_without_a_proxy_forwarded_headers_are_ignored(app):
    add_echo_route(app)
    response = app.test_client().get("/test/echo", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert response.get_json() == {"scheme": "http", "address": "127.0.0.1"}


@pytest.mark.settings(PROXY_FIX_X_FOR=1, OIDC_ISSUER="https://login.example.ca")
def test_the_same_form_with_a_same_origin_referer_is_accepted(client):
    page = client.get("/signin", headers={"X-Forwarded-Proto": "https"}, follow_redirects=True)
    response = client.post(page.request.path, data={"csrf_token": csrf_token(page.text), "email": "a@example.ca"},
                           headers={"X-Forwarded-Proto": "https", "Referer": "https://localhost" + page.request.path})
    assert response.status_code != 400
