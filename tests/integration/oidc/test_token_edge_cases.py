"""Edge cases of the token path (idp/oidc/tokens.py, grants.py, server.py) since it runs
prebuilt Core statements: people disabled after a code or refresh token was issued,
introspection of refresh tokens, the `claims` parameter, and codes or refresh tokens
presented by the wrong client or too late. Each asserts the exact OAuth error and status."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from idp.accounts.models import User
from idp.extensions import db
from idp.oidc.models import Token
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import POST_LOGOUT_URI, SignIn, authorization_params, basic_auth, make_client, make_user, query_of


def set_person(app, user_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()


def refresh(http, rp, refresh_token, **extra):
    return http.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
                     headers=basic_auth(rp))


def introspect(http, rp, token):
    response = http.post("/introspect", data={"token": token}, headers=basic_auth(rp))
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def assert_oauth_error(response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error, body
    assert "access_token" not in body and "refresh_token" not in body and "id_token" not in body
    assert response.headers["Cache-Control"] == "no-store"


def signed_in(app, http, rp, scope="openid offline_access", **extra):
    user_id = make_user(app)
    code = SignIn(http).code_for(authorization_params(rp, scope=scope, **extra))["code"]
    return user_id, code


# 1. A person disabled, or no longer active, after a code or refresh token was issued ------

def disabled(clock):
    return {"disabled_at": clock()}


def deactivated(clock):
    return {"activated_at": None}


@pytest.mark.parametrize("change", [disabled, deactivated], ids=["disabled", "not-activated"])
def test_code_of_a_person_no_longer_active_is_invalid_grant(app, client, clock, change):
    rp = make_client(app)
    user_id, code = signed_in(app, client, rp)
    set_person(app, user_id, **change(clock))
    assert_oauth_error(exchange(client, rp, code), "invalid_grant")
    with app.app_context():
        assert db.session.scalars(select(Token).where(Token.user_id == user_id)).all() == []


@pytest.mark.parametrize("change", [disabled, deactivated], ids=["disabled", "not-activated"])
def test_refresh_token_of_a_person_no_longer_active_is_invalid_grant(app, client, clock, change):
    rp = make_client(app)
    user_id, code = signed_in(app, client, rp)
    tokens = exchange(client, rp, code).get_json()
    set_person(app, user_id, **change(clock))
    assert_oauth_error(refresh(client, rp, tokens["refresh_token"]), "invalid_grant")
    assert introspect(client, rp, tokens["access_token"]) == {"active": False}
    assert introspect(client, rp, tokens["refresh_token"]) == {"active": False}
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 401 and userinfo.get_json()["error"] == "invalid_token"


# 2. Introspecting refresh tokens ----------------------------------------------------------

def test_introspection_of_a_live_refresh_token(app, client, clock):
    rp = make_client(app)
    other = make_client(app, name="Autre portail", redirect_uris=["https://other.example/cb"])
    _, code = signed_in(app, client, rp, scope="openid email offline_access")
    issued_at = clock()
    tokens = exchange(client, rp, code).get_json()
    body = introspect(client, rp, tokens["refresh_token"])
    assert body["active"] is True
    assert body["client_id"] == rp.client_id and body["aud"] == rp.client_id
    assert body["token_type"] == "refresh_token"
    assert set(body["scope"].split()) == {"openid", "email", "offline_access"}
    assert body["iss"] == "http://127.0.0.1:5000"
    assert body["iat"] == int(issued_at.timestamp())
    # Refresh tokens live 14 days from the sign-in, whatever the rotations.
    assert body["exp"] == int((issued_at + timedelta(days=14)).timestamp())
    id_token = decode_id_token(client, tokens["id_token"])
    assert body["sub"] == id_token["sub"]
    assert None not in body.values()
    # Another client learns nothing about it, and cannot use it either.
    assert introspect(client, other, tokens["refresh_token"]) == {"active": False}


def test_introspection_of_a_rotated_or_revoked_refresh_token_is_inactive(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    first = exchange(client, rp, code).get_json()
    second = refresh(client, rp, first["refresh_token"]).get_json()
    assert introspect(client, rp, first["refresh_token"]) == {"active": False}
    assert introspect(client, rp, second["refresh_token"])["active"] is True
    assert introspect(client, rp, second["access_token"])["token_type"] == "Bearer"
    assert client.post("/revoke", data={"token": second["refresh_token"]}, headers=basic_auth(rp)).status_code == 200
    assert introspect(client, rp, second["refresh_token"]) == {"active": False}
    assert introspect(client, rp, second["access_token"]) == {"active": False}


def test_introspection_of_an_expired_refresh_token_is_inactive(app, client, clock):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    tokens = exchange(client, rp, code).get_json()
    clock.advance(days=14, seconds=1)
    assert introspect(client, rp, tokens["refresh_token"]) == {"active": False}
    assert introspect(client, rp, tokens["access_token"]) == {"active": False}


# 3. The claims parameter ------------------------------------------------------------------

CLAIMS = {
    "id_token": {"email": None, "given_name": {"essential": True}, "shoe_size": None},
    "userinfo": {"family_name": None, "favourite_colour": {"essential": True}},
}


def test_claims_parameter_puts_the_named_claims_in_the_id_token_and_userinfo(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp, scope="openid email profile", claims=json.dumps(CLAIMS))
    tokens = exchange(client, rp, code).get_json()
    claims = decode_id_token(client, tokens["id_token"])
    assert claims["email"] == "zoe@example.ca" and claims["given_name"] == "Zoé"
    assert "family_name" not in claims and "name" not in claims and "email_verified" not in claims
    assert "shoe_size" not in claims
    assert None not in claims.values()
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    # UserInfo holds what the scopes release; the claims parameter adds nothing there.
    assert info["sub"] == claims["sub"] and info["family_name"] == "Citoyenne" and info["email"] == "zoe@example.ca"


def test_claims_parameter_survives_a_refresh(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp, scope="openid email profile offline_access", claims=json.dumps(CLAIMS))
    tokens = exchange(client, rp, code).get_json()
    renewed = refresh(client, rp, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.get_json()
    claims = decode_id_token(client, renewed.get_json()["id_token"])
    assert claims["email"] == "zoe@example.ca" and claims["given_name"] == "Zoé"
    assert None not in claims.values()


def test_a_requested_claim_the_person_lacks_is_absent_never_null(app, client):
    rp = make_client(app)
    claims = {"id_token": {"phone_number": {"essential": True}, "address": None, "email": None}}
    _, code = signed_in(app, client, rp, scope="openid email phone address", claims=json.dumps(claims))
    id_token = decode_id_token(client, exchange(client, rp, code).get_json()["id_token"])
    assert "phone_number" not in id_token and "address" not in id_token
    assert id_token["email"] == "zoe@example.ca" and None not in id_token.values()


@pytest.mark.parametrize("raw", [
    "{not json",
    "[]",
    '"id_token"',
    '{"id_token": ["email"]}',
    '{"id_token": {"email": true}}',
    '{"userinfo": {"email": 3}}',
])
def test_malformed_claims_parameter_is_an_invalid_request_redirect(app, client, raw):
    rp = make_client(app)
    params = authorization_params(rp, claims=raw)
    response = client.get("/authorize", query_string=params)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    result = query_of(response.headers["Location"])
    assert result["error"] == "invalid_request" and result["state"] == params["state"]
    assert result["iss"] == "http://127.0.0.1:5000" and "code" not in result


# 4. Codes and refresh tokens presented by the wrong client, or too late -------------------

def test_code_redeemed_with_another_clients_credentials(app, client):
    rp = make_client(app)
    other = make_client(app, name="Autre portail")  # same redirect URI: only the client differs
    _, code = signed_in(app, client, rp)
    assert_oauth_error(exchange(client, other, code), "invalid_grant")
    # The foreign attempt neither spent nor burned the code for its owner.
    response = exchange(client, rp, code)
    assert response.status_code == 200, response.get_json()
    # And a second foreign attempt after that does not revoke the owner's grant.
    assert_oauth_error(exchange(client, other, code), "invalid_grant")
    tokens = response.get_json()
    assert introspect(client, rp, tokens["access_token"])["active"] is True


def test_refresh_token_presented_by_another_client(app, client):
    rp = make_client(app)
    other = make_client(app, name="Autre portail")
    _, code = signed_in(app, client, rp)
    tokens = exchange(client, rp, code).get_json()
    assert_oauth_error(refresh(client, other, tokens["refresh_token"]), "invalid_grant")
    # Not rotated, not revoked: its owner still refreshes with it.
    assert introspect(client, rp, tokens["refresh_token"])["active"] is True
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


def test_code_with_wrong_client_secret_is_invalid_client(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    response = client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri},
                           headers=basic_auth(type(rp)(rp.client_id, "wrong-secret")))
    assert_oauth_error(response, "invalid_client", 401)
    assert response.headers["WWW-Authenticate"].lower().startswith("basic")
    assert exchange(client, rp, code).status_code == 200


def test_code_past_its_lifetime_is_invalid_grant(app, client, clock):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    clock.advance(61)  # past the 60-second lifetime
    assert_oauth_error(exchange(client, rp, code), "invalid_grant")


def test_code_just_inside_its_lifetime_is_redeemed(app, client, clock):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    clock.advance(59)
    assert exchange(client, rp, code).status_code == 200


def test_rotated_refresh_token_presented_again_revokes_the_grant(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    first = exchange(client, rp, code).get_json()
    second = refresh(client, rp, first["refresh_token"]).get_json()
    assert_oauth_error(refresh(client, rp, first["refresh_token"]), "invalid_grant")
    assert_oauth_error(refresh(client, rp, second["refresh_token"]), "invalid_grant")
    assert introspect(client, rp, second["access_token"]) == {"active": False}


def test_unknown_code_and_refresh_token(app, client):
    rp = make_client(app)
    assert_oauth_error(exchange(client, rp, "no-such-code"), "invalid_grant")
    assert_oauth_error(refresh(client, rp, "no-such-refresh-token"), "invalid_grant")


def test_refresh_by_a_client_not_registered_for_the_grant(app, client):
    rp = make_client(app, grant_types=("authorization_code",))
    _, code = signed_in(app, client, rp)
    tokens = exchange(client, rp, code).get_json()
    assert "refresh_token" not in tokens
    assert_oauth_error(refresh(client, rp, "anything"), "unauthorized_client")


def test_access_token_is_not_a_refresh_token(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    tokens = exchange(client, rp, code).get_json()
    assert_oauth_error(refresh(client, rp, tokens["access_token"]), "invalid_grant")
    assert_oauth_error(exchange(client, rp, tokens["access_token"]), "invalid_grant")
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


def test_introspection_of_a_refresh_token_reports_the_grant_scope_after_narrowing(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp, scope="openid email offline_access")
    tokens = exchange(client, rp, code).get_json()
    narrow = refresh(client, rp, tokens["refresh_token"], scope="openid").get_json()
    assert narrow["scope"] == "openid"
    assert introspect(client, rp, narrow["access_token"])["scope"] == "openid"
    # The new refresh token still carries the whole consented scope (a later refresh may ask
    # for it again), so that is the scope associated with it (RFC 7662 §2.2).
    assert set(introspect(client, rp, narrow["refresh_token"])["scope"].split()) == {"openid", "email", "offline_access"}


def sign_out(http, rp, id_token):
    response = http.get("/logout", query_string={"id_token_hint": id_token, "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "s"})
    assert response.status_code in (302, 303) and response.headers["Location"].startswith(POST_LOGOUT_URI)


def test_sign_out_ends_a_grant_without_offline_access(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp, scope="openid email")
    tokens = exchange(client, rp, code).get_json()
    sign_out(client, rp, tokens["id_token"])
    assert introspect(client, rp, tokens["refresh_token"]) == {"active": False}
    assert_oauth_error(refresh(client, rp, tokens["refresh_token"]), "invalid_grant")


def test_a_narrowing_refresh_keeps_offline_access_across_sign_out(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp, scope="openid email offline_access")
    tokens = exchange(client, rp, code).get_json()
    narrow = refresh(client, rp, tokens["refresh_token"], scope="openid").get_json()
    assert narrow["scope"] == "openid"
    sign_out(client, rp, narrow["id_token"])
    # The grant was consented with offline_access: its refresh token survives sign-out,
    # whatever scope the last access token was narrowed to.
    assert introspect(client, rp, narrow["refresh_token"])["active"] is True
    renewed = refresh(client, rp, narrow["refresh_token"])
    assert renewed.status_code == 200, renewed.get_json()


def test_refresh_lifetime_is_absolute_across_rotations(app, client, clock):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    first = exchange(client, rp, code).get_json()
    first_claims = decode_id_token(client, first["id_token"])
    exp = introspect(client, rp, first["refresh_token"])["exp"]
    clock.advance(days=13)
    second = refresh(client, rp, first["refresh_token"]).get_json()
    assert introspect(client, rp, second["refresh_token"])["exp"] == exp
    assert decode_id_token(client, second["id_token"])["auth_time"] == first_claims["auth_time"]
    clock.advance(days=1, seconds=1)
    assert_oauth_error(refresh(client, rp, second["refresh_token"]), "invalid_grant")


def test_code_without_redirect_uri_is_invalid_grant_and_burned(app, client):
    rp = make_client(app)
    _, code = signed_in(app, client, rp)
    missing = client.post("/token", data={"grant_type": "authorization_code", "code": code}, headers=basic_auth(rp))
    assert_oauth_error(missing, "invalid_grant")
    assert_oauth_error(exchange(client, rp, code), "invalid_grant")


def test_client_authenticating_with_an_unregistered_method_is_invalid_client(app, client):
    rp = make_client(app)  # client_secret_basic
    _, code = signed_in(app, client, rp)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri, "client_id": rp.client_id}
    assert_oauth_error(client.post("/token", data={**data, "client_secret": rp.client_secret}), "invalid_client", 401)
    assert_oauth_error(client.post("/token", data=data), "invalid_client", 401)
    # Refused before the code was looked at: its owner still redeems it.
    assert exchange(client, rp, code).status_code == 200


def test_grant_type_the_client_is_not_registered_for_is_unauthorized_client(app, client):
    rp = make_client(app, grant_types=("authorization_code",))
    assert_oauth_error(client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp)), "unauthorized_client")
