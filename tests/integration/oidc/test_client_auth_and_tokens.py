"""private_key_jwt with jti replay protection, Basic credentials form-encoded before base64,
revocation and introspection, refresh scope rules and expiry."""

from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import quote_plus

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.oidc_support import PKCE_VERIFIER, SignIn, authorization_params, basic_auth, make_client, make_user

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def assertion(key, client_id: str, audience: str, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 60,
              "jti": jti or secrets.token_urlsafe(15)}
    return jwt.encode({"alg": "RS256"}, claims, key)


def test_private_key_jwt_client_credentials_and_jti_replay(app, client):
    key = RSAKey.generate_key(2048)
    rp = make_client(app, auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]},
                     grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())
    signed = assertion(key, rp.client_id, "http://127.0.0.1:5000/token")
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}
    assert client.post("/token", data=data).status_code == 200
    replay = client.post("/token", data=data)
    assert replay.status_code in (400, 401) and replay.get_json()["error"] == "invalid_client"
    # The issuer is an accepted audience too (conformance oidcc-ensure-client-assertion-with-iss-aud).
    by_issuer = assertion(key, rp.client_id, "http://127.0.0.1:5000")
    assert client.post("/token", data={**data, "client_assertion": by_issuer}).status_code == 200
    forged = assertion(RSAKey.generate_key(2048), rp.client_id, "http://127.0.0.1:5000/token")
    assert client.post("/token", data={**data, "client_assertion": forged}).get_json()["error"] == "invalid_client"


def test_basic_credentials_are_form_decoded(app, client):
    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())
    raw = f"{quote_plus(rp.client_id)}:{quote_plus(rp.client_secret)}".encode()
    response = client.post("/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic " + base64.b64encode(raw).decode()})
    assert response.status_code == 200


def signed_in_tokens(app, client, rp, scope="openid offline_access"):
    make_user(app)
    code = SignIn(client).code_for(authorization_params(rp, scope=scope))["code"]
    return client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                       "code_verifier": PKCE_VERIFIER},
                       headers=basic_auth(rp)).get_json()


def test_revocation_and_introspection(app, client):
    rp = make_client(app)
    other = make_client(app, name="Other")
    tokens = signed_in_tokens(app, client, rp)
    active = client.post("/introspect", data={"token": tokens["access_token"]}, headers=basic_auth(rp)).get_json()
    assert active["active"] is True and active["client_id"] == rp.client_id and active["sub"]
    foreign = client.post("/introspect", data={"token": tokens["access_token"]}, headers=basic_auth(other)).get_json()
    assert foreign == {"active": False}
    assert client.post("/introspect", data={"token": tokens["access_token"]}).status_code == 401
    assert client.post("/revoke", data={"token": tokens["refresh_token"]}, headers=basic_auth(rp)).status_code == 200
    # Revoking the refresh token ends its grant, access token included.
    assert client.post("/introspect", data={"token": tokens["access_token"]}, headers=basic_auth(rp)).get_json() == {"active": False}
    refresh = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=basic_auth(rp))
    assert refresh.get_json()["error"] == "invalid_grant"


def test_refresh_scope_cannot_grow_and_narrowing_keeps_the_grant(app, client):
    rp = make_client(app)
    tokens = signed_in_tokens(app, client, rp, scope="openid email offline_access")
    wider = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid phone"}, headers=basic_auth(rp))
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"
    narrow = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid"}, headers=basic_auth(rp)).get_json()
    assert narrow["scope"] == "openid"
    full = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": narrow["refresh_token"], "scope": "openid email offline_access"}, headers=basic_auth(rp))
    assert full.status_code == 200


def test_codes_and_refresh_tokens_expire(app, client, clock):
    rp = make_client(app)
    make_user(app)
    code = SignIn(client).code_for(authorization_params(rp))["code"]
    clock.advance(61)
    late = client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                       "code_verifier": PKCE_VERIFIER}, headers=basic_auth(rp))
    assert late.get_json()["error"] == "invalid_grant"
    code = SignIn(client).code_for(authorization_params(rp))["code"]
    tokens = client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                       "code_verifier": PKCE_VERIFIER}, headers=basic_auth(rp)).get_json()
    clock.advance(14 * 24 * 3600 + 1)
    expired = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=basic_auth(rp))
    assert expired.get_json()["error"] == "invalid_grant"


def test_public_client_must_use_pkce(app, client):
    rp = make_client(app, is_public=True, auth_method="none")
    response = client.get("/authorize", query_string=authorization_params(rp, code_challenge=None, code_challenge_method=None))
    assert "error=invalid_request" in response.headers["Location"]


def test_pairwise_subjects_differ_between_sectors(app, client):
    first = make_client(app, name="Portail A", redirect_uris=["https://a.example/cb"])
    second = make_client(app, name="Portail B", redirect_uris=["https://b.example/cb"])
    make_user(app)
    signin = SignIn(client)
    subjects = []
    for rp in (first, second):
        code = signin.code_for(authorization_params(rp))["code"]
        tokens = client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                       "code_verifier": PKCE_VERIFIER}, headers=basic_auth(rp)).get_json()
        subjects.append(client.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}).get_json()["sub"])
    assert subjects[0] != subjects[1]
