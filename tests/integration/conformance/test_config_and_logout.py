"""Config OP (§1.3, §2.2) and RP-Initiated Logout OP (§1.5) certification plans."""

from __future__ import annotations

import base64
import json
import re
import secrets
import string

from authlib.common.urls import add_params_to_uri
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.integration.conformance.conftest import POST_LOGOUT
from tests.integration.conformance.harness import ISSUER, Browser, callback, token_request
from tests.oidc_support import PKCE_VERIFIER, authorization_params, query_of

SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")


def test_config_op_discovery_endpoint_verification(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200 and response.mimetype == "application/json"
    meta = response.get_json()
    assert meta["issuer"] == ISSUER
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert meta[key].startswith(ISSUER + "/")
    assert all(value.startswith(ISSUER) for key, value in meta.items() if key.endswith("_endpoint"))
    assert "code" in meta["response_types_supported"]
    assert {"public", "pairwise"} & set(meta["subject_types_supported"])
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert "openid" in meta["scopes_supported"] and all(SCOPE_TOKEN.match(s) for s in meta["scopes_supported"])
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(meta["token_endpoint_auth_methods_supported"])
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert isinstance(meta["claims_parameter_supported"], bool) and isinstance(meta["claims_supported"], list)
    assert "refresh_token" in meta["grant_types_supported"] and "form_post" in meta["response_modes_supported"]
    assert None not in meta.values()
    assert client.get("/.well-known/oauth-authorization-server").get_json() == meta  # RFC 8414
    jwks = client.get(meta["jwks_uri"]).get_json()["keys"]
    assert len({key["kid"] for key in jwks}) == len(jwks) and all(key["kid"] for key in jwks)
    assert all(not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key) for key in jwks)


def signed_in(client, op):
    """Common flow step 1: a full code flow with a 128-character state."""
    c1 = op["client1"]
    params = authorization_params(c1, state=secrets.token_hex(62) + "-._~")
    result = callback(Browser(client).authorize(params), "query", c1)
    tokens = token_request(client, c1, {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": c1.redirect_uri,
                                        "code_verifier": PKCE_VERIFIER})
    return tokens.get_json()


def logout_state() -> str:
    punctuation = "\"#$%&'()*,./:<=>?@[\\]^_`{|}~!"
    return "".join(secrets.choice(string.ascii_letters) for _ in range(50)) + "".join(secrets.choice(string.digits) for _ in range(10)) + "".join(secrets.choice(punctuation) for _ in range(30))


def assert_session_ended(client, op):
    params = authorization_params(op["client1"], prompt="none", state=secrets.token_hex(64))
    result = query_of(client.get("/authorize", query_string=params).headers["Location"])
    assert result["error"] == "login_required" and result["state"] == params["state"]


def assert_still_signed_in(client, op):
    params = authorization_params(op["client1"], prompt="none")
    assert "code" in query_of(client.get("/authorize", query_string=params).headers["Location"])


def assert_no_redirect(response):
    assert response.status_code in (200, 400) and "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert f'action="{POST_LOGOUT}' not in page and "http-equiv" not in page


def test_02_logout_redirects_with_exact_state_and_ends_session(client, op):
    tokens = signed_in(client, op)
    state = logout_state()
    response = client.get("/logout", query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": state})
    assert response.status_code in (302, 303)
    assert response.headers["Location"].split("?")[0] == POST_LOGOUT
    assert query_of(response.headers["Location"]) == {"state": state}
    assert_session_ended(client, op)
    # Tokens of that session without offline_access end with it.
    assert client.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code == 401


def test_03_unregistered_post_logout_redirect_uri_does_not_redirect(client, op):
    tokens = signed_in(client, op)
    response = client.get("/logout", query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT.replace("post_logout_redirect", "bad_post_logout_redirect_uri"), "state": "x"})
    assert_no_redirect(response)


def test_04_modified_id_token_hint_does_not_redirect(client, op):
    tokens = signed_in(client, op)
    payload = tokens["id_token"].split(".")[1]
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode() + "." + payload + "."
    response = client.get("/logout", query_string={"id_token_hint": unsigned, "post_logout_redirect_uri": POST_LOGOUT, "state": "x"})
    assert_no_redirect(response)
    assert_still_signed_in(client, op)


def test_05_07_09_missing_parts_show_a_page(client, op):
    tokens = signed_in(client, op)
    for params in ({"post_logout_redirect_uri": POST_LOGOUT, "state": "x"},
                   {"id_token_hint": tokens["id_token"], "state": "x"},
                   {"state": "x"}):
        assert_no_redirect(client.get("/logout", query_string=params))


def test_06_no_params_confirms_then_signs_out(client, op):
    signed_in(client, op)
    page = client.get("/logout")
    assert_no_redirect(page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post("/logout/confirm", data={}).status_code == 400  # CSRF protected
    done = client.post("/logout/confirm", data={"csrf_token": token})
    assert done.status_code == 200
    assert_session_ended(client, op)


def test_07_no_post_logout_redirect_uri_signs_out_on_a_page(client, op):
    tokens = signed_in(client, op)
    response = client.get("/logout", query_string={"id_token_hint": tokens["id_token"], "state": "x"})
    assert_no_redirect(response)
    assert_session_ended(client, op)


def test_08_no_state_redirects_without_state(client, op):
    tokens = signed_in(client, op)
    response = client.get("/logout", query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT})
    assert response.headers["Location"] == POST_LOGOUT
    assert_session_ended(client, op)


def test_10_query_added_to_post_logout_redirect_uri_does_not_redirect(client, op):
    tokens = signed_in(client, op)
    response = client.get("/logout", query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": add_params_to_uri(POST_LOGOUT, [("foo", "bar")]), "state": "x"})
    assert_no_redirect(response)


def test_11_id_token_hint_signed_by_someone_else_does_not_redirect(client, op):
    tokens = signed_in(client, op)
    claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
    forged = jwt.encode({"alg": "RS256"}, {"iss": op["client1"].client_id, "aud": ISSUER, "sub": "SubjectID", "nonce": "flibble",
                                           "iat": claims["iat"], "exp": claims["exp"]}, RSAKey.generate_key(2048))
    response = client.get("/logout", query_string={"id_token_hint": forged, "post_logout_redirect_uri": POST_LOGOUT, "state": "x"})
    assert_no_redirect(response)
    assert_still_signed_in(client, op)
