"""The authorization code flow end to end through the Flask test client."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.oidc_support import (
    PKCE_VERIFIER,
    SignIn,
    authorization_params,
    basic_auth,
    make_client,
    make_user,
    pkce_pair,
    query_of,
)


def exchange(http, client, code, verifier=PKCE_VERIFIER, **extra):
    """Redeem a code; verifier=None sends no code_verifier (a code asked for without PKCE)."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri, **extra}
    if verifier:
        data["code_verifier"] = verifier
    return http.post("/token", data=data, headers=basic_auth(client))


def decode_id_token(http, id_token):
    keys = KeySet.import_key_set(http.get("/jwks").get_json())
    return jwt.decode(id_token, keys, algorithms=["ES256", "RS256"]).claims


def test_code_flow_issues_tokens_and_userinfo(app, client):
    make_user(app)
    rp = make_client(app)
    verifier, challenge = pkce_pair()
    params = authorization_params(rp, scope="openid email profile", code_challenge=challenge, code_challenge_method="S256")
    result = SignIn(client).code_for(params)
    assert result["state"] == params["state"]
    assert result["iss"] == "http://127.0.0.1:5000"

    response = exchange(client, rp, result["code"], verifier)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["refresh_token"]
    claims = decode_id_token(client, body["id_token"])
    assert claims["iss"] == "http://127.0.0.1:5000"
    assert claims["aud"] == rp.client_id and claims["azp"] == rp.client_id
    assert claims["nonce"] == params["nonce"]
    # A password then the emailed code: honest values, not "otp"/"mfa" (idp.signin.assurance).
    assert claims["amr"] == ["pwd", "email"] and claims["acr"] == "urn:passerelle:acr:pwd-email"
    assert claims["sid"] and claims["at_hash"]
    assert "email" not in claims and "name" not in claims  # profile claims belong in UserInfo
    assert None not in claims.values()

    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200 and info.mimetype == "application/json"
    assert info.get_json()["sub"] == claims["sub"]
    assert info.get_json()["email"] == "zoe@example.ca"
    assert info.get_json()["given_name"] == "Zoé"


def test_code_is_single_use_and_reuse_revokes_tokens(app, client):
    make_user(app)
    rp = make_client(app)
    result = SignIn(client).code_for(authorization_params(rp))
    first = exchange(client, rp, result["code"]).get_json()
    second = exchange(client, rp, result["code"])
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_grant"
    assert second.mimetype == "application/json"
    revoked = client.get("/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert revoked.status_code == 401
    refresh = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, headers=basic_auth(rp))
    assert refresh.get_json()["error"] == "invalid_grant"


def test_form_post_response_mode_posts_code_to_client(app, client):
    make_user(app)
    rp = make_client(app)
    response = SignIn(client).authorize(authorization_params(rp, response_mode="form_post"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'action="{rp.redirect_uri}"' in html and 'name="code"' in html and 'name="iss"' in html
    # The redirect URI may redirect on: the page sets no form-action (issue 9 #13).
    assert "form-action" not in response.headers["Content-Security-Policy"]


def test_prompt_none_without_session_returns_login_required(client, app):
    rp = make_client(app)
    params = authorization_params(rp, prompt="none")
    response = client.get("/authorize", query_string=params)
    assert response.status_code == 303
    result = query_of(response.headers["Location"])
    assert result["error"] == "login_required" and result["state"] == params["state"] and "code" not in result


def test_unknown_client_and_unregistered_redirect_show_a_page(client, app):
    rp = make_client(app)
    for params in (
        authorization_params(rp, client_id="nope"),
        authorization_params(rp, redirect_uri=rp.redirect_uri + "/extra"),
        authorization_params(rp, redirect_uri=rp.redirect_uri + "?foo=bar"),
        {k: v for k, v in authorization_params(rp).items() if k != "redirect_uri"},
    ):
        response = client.get("/authorize", query_string=params)
        assert response.status_code == 400 and "Location" not in response.headers


def test_plain_pkce_and_missing_method_are_refused(client, app):
    rp = make_client(app)
    for extra in ({"code_challenge": "a" * 43, "code_challenge_method": "plain"},
                  {"code_challenge": "a" * 43, "code_challenge_method": None}):
        response = client.get("/authorize", query_string=authorization_params(rp, **extra))
        assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_client_credentials(app, client):
    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())
    response = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp))
    assert response.status_code == 200, response.get_json()
    assert "refresh_token" not in response.get_json() and "id_token" not in response.get_json()


def test_consent_is_asked_once_then_remembered_across_sign_ins(app, client):
    from tests.integration.conformance.harness import Browser

    make_user(app)
    rp = make_client(app, require_consent=True)
    browser = Browser(client)
    first = browser.authorize(authorization_params(rp, scope="openid email"))
    assert "code=" in first.headers["Location"] and browser.consent_pages == 1
    later = Browser(app.test_client())  # a new browser: sign in again, consent remembered
    again = later.authorize(authorization_params(rp, scope="openid email"))
    assert "code=" in again.headers["Location"] and later.consent_pages == 0 and later.login_pages == 1
    wider = later.authorize(authorization_params(rp, scope="openid email phone"))
    assert "code=" in wider.headers["Location"] and later.consent_pages == 1


def test_denied_consent_returns_access_denied(app, client):
    from tests.integration.conformance.harness import Browser

    make_user(app)
    rp = make_client(app, require_consent=True)
    params = authorization_params(rp)
    denied = Browser(client).authorize(params, consent="deny")
    result = query_of(denied.headers["Location"])
    assert result["error"] == "access_denied" and result["state"] == params["state"]


def test_wrong_verifier_or_redirect_uri_burns_the_code(app, client):
    make_user(app)
    rp = make_client(app)
    signin = SignIn(client)
    verifier, challenge = pkce_pair()
    code = signin.code_for(authorization_params(rp, code_challenge=challenge, code_challenge_method="S256"))["code"]
    assert exchange(client, rp, code, "x" * 43).get_json()["error"] == "invalid_grant"
    assert exchange(client, rp, code, verifier).get_json()["error"] == "invalid_grant"
    code = signin.code_for(authorization_params(rp))["code"]
    wrong = client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": "https://rp.example/other"}, headers=basic_auth(rp))
    assert wrong.get_json()["error"] == "invalid_grant"
    assert exchange(client, rp, code).get_json()["error"] == "invalid_grant"
    downgrade = signin.code_for(authorization_params(rp))["code"]
    assert exchange(client, rp, downgrade, verifier).get_json()["error"] == "invalid_grant"
