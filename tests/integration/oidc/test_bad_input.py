"""Bad input gets the right OAuth error and status, never a 500 (issue 2, Tests)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.oidc_support import authorization_params, basic_auth, make_client

PARAMETER_NAMES = ["grant_type", "code", "redirect_uri", "refresh_token", "client_id", "client_secret", "scope",
                   "code_verifier", "token", "token_type_hint", "access_token", "client_assertion",
                   "client_assertion_type", "response_type", "state", "nonce", "prompt", "max_age", "claims",
                   "response_mode", "code_challenge", "code_challenge_method", "id_token_hint",
                   "post_logout_redirect_uri", "ui_locales", "acr_values"]
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "null", "{}", "[", '{"userinfo": 5}', "%00", "\x00", "a" * 5000, "é" * 300,
                     "authorization_code", "refresh_token", "client_credentials", "password", "code", "token",
                     "none login", "-1", "99999999999999999999", "eyJhbGciOiJub25lIn0.e30.", "a.b.c", "S256", "plain",
                     "javascript:alert(1)", "https://evil.example/cb", "openid", "form_post", "fragment"]),
)
parameters = st.dictionaries(st.sampled_from(PARAMETER_NAMES), nasty_text, max_size=8)
MACHINE_ENDPOINTS = ["/token", "/revoke", "/introspect", "/userinfo"]
BROWSER_ENDPOINTS = ["/authorize", "/logout", "/authorize/resume", "/signin", "/language/fr"]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(path=st.sampled_from(MACHINE_ENDPOINTS), data=parameters,
       auth=st.sampled_from([None, "Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(), "Bearer x", "Basic"]),
       as_json=st.booleans())
def test_machine_endpoints_answer_json_errors_never_500(client, path, data, auth, as_json):
    headers = {"Authorization": auth} if auth else {}
    response = client.post(path, json=data, headers=headers) if as_json else client.post(path, data=data, headers=headers)
    assert response.status_code < 500
    assert response.mimetype == "application/json"
    if response.status_code >= 400:
        assert isinstance(response.get_json()["error"], str)


@FUZZ
@given(path=st.sampled_from(BROWSER_ENDPOINTS), data=parameters, method=st.sampled_from(["GET", "POST"]))
def test_browser_endpoints_never_500(client, path, data, method):
    response = client.open(path, method=method, query_string=data if method == "GET" else None, data=data if method == "POST" else None)
    assert response.status_code < 500


@FUZZ
@given(overrides=parameters)
def test_authorization_requests_from_a_real_client_never_500(client, app, overrides):
    rp = getattr(app, "_fuzz_client", None) or make_client(app)
    app._fuzz_client = rp
    response = client.get("/authorize", query_string={**authorization_params(rp), **overrides})
    assert response.status_code < 500
    if response.status_code in (302, 303):
        location = response.headers["Location"]
        assert location.startswith(rp.redirect_uri) or location.startswith("/signin"), location


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", '{"grant_type": "client_credentials"}'),
    ("text/plain", "grant_type=client_credentials"),
    ("application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=client_credentials"),
])
def test_token_endpoint_refuses_wrong_shapes_with_invalid_request(client, app, content_type, body):
    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())
    response = client.post("/token", data=body, content_type=content_type, headers=basic_auth(rp))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_unknown_grant_type_and_tampered_tokens(client, app):
    rp = make_client(app)
    unknown = client.post("/token", data={"grant_type": "password", "username": "a", "password": "b"}, headers=basic_auth(rp))
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "unsupported_grant_type"
    wrong_secret = client.post("/token", data={"grant_type": "authorization_code", "code": "x", "redirect_uri": rp.redirect_uri},
                               headers={"Authorization": "Basic " + base64.b64encode(f"{rp.client_id}:nope".encode()).decode()})
    assert wrong_secret.status_code == 401 and wrong_secret.get_json()["error"] == "invalid_client"
    tampered = client.get("/userinfo", headers={"Authorization": "Bearer not-a-token"})
    assert tampered.status_code == 401 and "invalid_token" in tampered.headers["WWW-Authenticate"]
    oversized = client.get("/authorize", query_string=authorization_params(rp, state="s" * 70000))
    assert oversized.status_code < 500


def test_nul_characters_are_refused_before_the_database(client):
    assert client.get("/authorize", query_string={"client_id": "a\x00b"}).status_code == 400
    response = client.post("/token", data={"grant_type": "client_credentials", "client_id": "a\x00"})
    assert response.status_code == 400 and response.mimetype == "application/json"
