"""Basic OP and Form Post OP certification plans (§1.1, §1.2): each module as a test, run
once per response mode. Module numbers follow shared/conformance-plan.md."""

from __future__ import annotations

import secrets

from tests.integration.conformance.harness import (
    ALLOWED_ID_TOKEN_CLAIMS,
    Browser,
    at_hash,
    callback,
    is_error_page,
    shannon_bits,
    token_request,
    verify_id_token,
)
from tests.oidc_support import PKCE_VERIFIER, authorization_params, pkce_pair


def request_for(client, mode, **extra):
    params = authorization_params(client, **extra)
    if mode == "form_post":
        params["response_mode"] = "form_post"
    return params


def full_flow(http, app, clock, client, mode, browser=None, auth="basic", **extra):
    """§0.2-§0.4: authorize, exchange, check the ID token, call UserInfo."""
    browser = browser or Browser(http)
    params = request_for(client, mode, **extra)
    result = callback(browser.authorize(params), mode, client)
    assert "error" not in result, result
    assert result["state"] == params["state"] and result["iss"] == "http://127.0.0.1:5000"
    # Every client uses PKCE (checklist OIDC-03): authorization_params sends PKCE_CHALLENGE.
    data = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": client.redirect_uri,
            "code_verifier": extra.pop("code_verifier", PKCE_VERIFIER)}
    response = token_request(http, client, data, auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["access_token"] and 0 < body["expires_in"] <= 31536000
    claims = verify_id_token(http, body["id_token"], client, params.get("nonce"), int(clock().timestamp()))
    userinfo = http.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"], "Accept": "application/json"})
    assert userinfo.status_code == 200
    return result, body, claims, userinfo.get_json()


def test_01_server(client, app, clock, op, mode):
    result, body, claims, _ = full_flow(client, app, clock, op["client1"], mode)
    assert len(result["code"]) >= 16 and shannon_bits(result["code"]) > 96
    assert claims["at_hash"] == at_hash(body["access_token"])
    assert set(claims) <= ALLOWED_ID_TOKEN_CLAIMS and "name" not in claims


def test_02_response_type_missing(client, op, mode):
    params = request_for(op["client1"], mode)
    del params["response_type"]
    result = callback(Browser(client).authorize(params), mode, op["client1"])
    assert result["error"] in ("unsupported_response_type", "invalid_request")
    assert result["state"] == params["state"] and "code" not in result
    assert set(result) <= {"error", "error_description", "error_uri", "state", "iss"}


def test_05_06_07_userinfo_get_post_header_post_body(client, app, clock, op, mode):
    _, body, claims, _ = full_flow(client, app, clock, op["client1"], mode)
    bearer = {"Authorization": "Bearer " + body["access_token"]}
    for response in (
        client.get("/userinfo", headers=bearer),
        client.post("/userinfo", headers={**bearer, "Content-Type": "application/x-www-form-urlencoded"}, data=""),
        client.post("/userinfo", data={"access_token": body["access_token"]}),
    ):
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.get_json()["sub"] == claims["sub"]


def test_08_request_without_nonce_succeeds(client, op, mode):
    params = request_for(op["client1"], mode)
    del params["nonce"]
    result = callback(Browser(client).authorize(params), mode, op["client1"])
    assert result["code"] and result["state"] == params["state"]


def test_09_to_13_scopes(client, app, clock, op, mode):
    expectations = {
        "openid profile": {"name", "given_name", "family_name", "locale", "updated_at"},
        "openid email": {"email", "email_verified"},
        "openid address": {"address"},
        "openid phone": {"phone_number", "phone_number_verified"},
        "openid email phone address profile": {"name", "email", "address", "phone_number"},
    }
    for scope, expected in expectations.items():
        _, _, claims, info = full_flow(client, app, clock, op["client1"], mode, scope=scope)
        assert expected <= set(info), (scope, info)
        assert "email" not in claims and "name" not in claims
        if scope == "openid email":
            assert "name" not in info and isinstance(info["email_verified"], bool)
    assert isinstance(info["updated_at"], int) and isinstance(info["address"], dict)


def test_14_alternate_happy_flow(client, app, clock, op, mode):
    browser = Browser(client)
    params = dict(reversed(sorted(request_for(op["client1"], mode, scope="email openid").items())))
    result = callback(browser.authorize(params), mode, op["client1"])
    assert result["code"] and result["state"] == params["state"]


def test_15_16_22_24_25_26_ignored_parameters_succeed(client, op, mode):
    browser = Browser(client)
    for extra in ({"display": "page"}, {"display": "popup"}, {"extra": "foobar"},
                  {"login_hint": "buffy@127.0.0.1"}, {"ui_locales": "se"}, {"claims_locales": "se"}):
        result = callback(browser.authorize(request_for(op["client1"], mode, **extra)), mode, op["client1"])
        assert "code" in result, (extra, result)


def test_17_prompt_login_reauthenticates(client, app, clock, op, mode):
    browser = Browser(client)
    _, _, first, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser)
    clock.advance(1)
    _, _, second, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser, prompt="login")
    assert browser.login_pages == 2
    assert second["auth_time"] > first["auth_time"]


def test_18_prompt_none_not_logged_in(client, op, mode):
    state = secrets.token_hex(62) + "-._~"
    params = request_for(op["client1"], mode, prompt="none", state=state)
    result = callback(client.get("/authorize", query_string=params), mode, op["client1"])
    assert result["error"] == "login_required" and result["state"] == state and "code" not in result


def test_19_prompt_none_logged_in(client, app, clock, op, mode):
    browser = Browser(client)
    _, _, first, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser)
    _, _, second, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser, prompt="none")
    assert browser.login_pages == 1
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_20_max_age_1_forces_login(client, app, clock, op, mode):
    browser = Browser(client)
    _, _, first, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser)
    clock.advance(2)
    _, _, second, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser, max_age="1")
    assert browser.login_pages == 2
    assert second["auth_time"] > first["auth_time"] >= int(clock().timestamp()) - 301


def test_21_max_age_10000_keeps_session(client, app, clock, op, mode):
    browser = Browser(client)
    _, _, first, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser, max_age="15000")
    _, _, second, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser, max_age="10000")
    assert browser.login_pages == 1
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_23_id_token_hint(client, app, clock, op, mode):
    browser = Browser(client)
    _, body, first, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser)
    _, _, second, _ = full_flow(client, app, clock, op["client1"], mode, browser=browser, prompt="none", id_token_hint=body["id_token"])
    assert browser.login_pages == 1 and second["sub"] == first["sub"] and second["auth_time"] == first["auth_time"]


def test_27_acr_values(client, app, clock, op, mode):
    supported = client.get("/.well-known/openid-configuration").get_json()["acr_values_supported"]
    _, _, claims, _ = full_flow(client, app, clock, op["client1"], mode, acr_values=" ".join(supported))
    assert claims["acr"] in supported


def test_28_29_code_reuse_fails_and_revokes(client, app, clock, op, mode):
    c1 = op["client1"]
    params = request_for(c1, mode)
    result = callback(Browser(client).authorize(params), mode, c1)
    data = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": c1.redirect_uri,
            "code_verifier": PKCE_VERIFIER}
    first = token_request(client, c1, data).get_json()
    clock.advance(30)
    again = token_request(client, c1, data)
    assert again.status_code == 400 and again.mimetype == "application/json"
    assert again.get_json()["error"] == "invalid_grant"
    assert client.get("/userinfo", headers={"Authorization": "Bearer " + first["access_token"]}).status_code == 401


def test_30_unregistered_redirect_uri_shows_error_page(client, op, mode):
    params = request_for(op["client1"], mode, redirect_uri=op["client1"].redirect_uri + "/" + secrets.token_hex(5))
    response = Browser(client).authorize(params)
    assert response.status_code == 400 and is_error_page(response, op["client1"])


def test_31_post_authorization_request(client, op, mode):
    params = request_for(op["client1"], mode)
    result = callback(Browser(client).authorize(params, method="POST"), mode, op["client1"])
    assert result["code"] and result["state"] == params["state"]


def test_32_client_secret_post(client, app, clock, op, mode):
    assert "client_secret_post" in client.get("/.well-known/openid-configuration").get_json()["token_endpoint_auth_methods_supported"]
    full_flow(client, app, clock, op["client3"], mode, auth="post")


def test_33_34_36_request_objects_rejected_as_unsupported(client, op, mode):
    browser = Browser(client)
    c1 = op["client1"]
    by_reference = callback(browser.authorize(request_for(c1, mode, request_uri="https://suite.example/requesturi/x")), mode, c1)
    assert by_reference["error"] == "request_uri_not_supported"
    by_value = callback(browser.authorize(request_for(c1, mode, request="eyJhbGciOiJub25lIn0.e30.")), mode, c1)
    assert by_value["error"] == "request_not_supported"
    bad_redirect = browser.authorize(request_for(c1, mode, request="eyJhbGciOiJub25lIn0.e30.", redirect_uri=c1.redirect_uri + "/_invalid"))
    assert is_error_page(bad_redirect, c1)


def test_35_claims_essential(client, app, clock, op, mode):
    # The claims parameter never releases beyond the granted scopes (issue 9): the suite
    # accepts an OP that omits an essential claim (it warns), and `profile` releases it.
    requested = '{"userinfo":{"name":{"essential":true}}}'
    _, _, claims, info = full_flow(client, app, clock, op["client1"], mode, claims=requested)
    assert "name" not in info and "name" not in claims
    _, _, claims, info = full_flow(client, app, clock, op["client1"], mode, claims=requested, scope="openid profile")
    assert info["name"] == "Zoé Citoyenne" and "name" not in claims


def test_37_refresh_token(client, app, clock, op, mode):
    c1, c2 = op["client1"], op["client2"]
    browser = Browser(client)
    scope = "openid offline_access"
    _, body, first, _ = full_flow(client, app, clock, c1, mode, browser=browser, scope=scope, prompt="consent")
    assert browser.consent_pages == 1
    clock.advance(1)
    refreshed = token_request(client, c1, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "scope": scope})
    assert refreshed.status_code == 200 and "no-store" in refreshed.headers["Cache-Control"]
    new = refreshed.get_json()
    assert shannon_bits(new["access_token"]) > 96 and shannon_bits(new["refresh_token"]) > 96
    again = verify_id_token(client, new["id_token"], c1, None, int(clock().timestamp()))
    assert (again["sub"], again["auth_time"], again["azp"]) == (first["sub"], first["auth_time"], first["azp"])
    assert again["iat"] != first["iat"]
    assert client.get("/userinfo", headers={"Authorization": "Bearer " + new["access_token"]}).status_code == 200
    _, body2, _, _ = full_flow(client, app, clock, c2, mode, browser=browser, scope=scope, prompt="consent", nonce=secrets.token_urlsafe(32))
    clock.advance(1)
    refreshed2 = token_request(client, c2, {"grant_type": "refresh_token", "refresh_token": body2["refresh_token"]}).get_json()
    stolen = token_request(client, c1, {"grant_type": "refresh_token", "refresh_token": refreshed2["refresh_token"]})
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"


def test_38_valid_pkce(client, app, clock, op, mode):
    verifier, challenge = pkce_pair()
    verifier = (verifier * 3)[:128]
    from tests.oidc_support import base64, hashlib  # the same S256 the suite computes

    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    full_flow(client, app, clock, op["client1"], mode, code_challenge=challenge, code_challenge_method="S256", code_verifier=verifier)
