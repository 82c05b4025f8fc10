"""Back-Channel Logout OP (§1.6) and Front-Channel Logout OP (§1.7) certification plans, as
the conformance suite runs them: discovery, then a full code flow, the end-session request
with id_token_hint, post_logout_redirect_uri and a 128-character state, the logout token
POSTed to the client's back-channel URI (here a real HTTP receiver on loopback, sent by `idp
worker`) or the front-channel iframe on the signed-out page, and the prompt=none check."""

from __future__ import annotations

import html
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jws, jwt
from joserfc.jwk import KeySet

from idp.ops.worker import Worker
from tests.integration.conformance.conftest import CALLBACK, POST_LOGOUT
from tests.integration.conformance.harness import (
    ISSUER,
    Browser,
    callback,
    token_request,
)
from tests.integration.conformance.test_config_and_logout import (
    assert_session_ended,
    logout_state,
)
from tests.logout_support import Receiver
from tests.oidc_support import (
    PKCE_VERIFIER,
    authorization_params,
    make_client,
    query_of,
)

FRONTCHANNEL = "https://suite.example/test/a/passerelle/frontchannel_logout"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def receiver():
    listening = Receiver("ok")
    yield listening
    listening.stop()


@pytest.fixture
def logout_op(app, op, receiver):
    """§3.2: the static clients of the two plans, next to the post-logout redirect URI: one
    with backchannel_logout_uri, one with frontchannel_logout_uri (both session required)."""
    common = {"redirect_uris": [CALLBACK], "post_logout_redirect_uris": [POST_LOGOUT]}
    return {**op,
            "backchannel": make_client(app, name="Back-channel client", backchannel_logout_uri=receiver.url,
                                       backchannel_logout_session_required=True, **common),
            "frontchannel": make_client(app, name="Front-channel client", frontchannel_logout_uri=FRONTCHANNEL,
                                        frontchannel_logout_session_required=True, **common)}


def signed_in(client, rp) -> dict:
    params = authorization_params(rp, state=secrets.token_hex(62) + "-._~")
    result = callback(Browser(client).authorize(params), "query", rp)
    return token_request(client, rp, {"grant_type": "authorization_code", "code": result["code"],
                                      "redirect_uri": rp.redirect_uri, "code_verifier": PKCE_VERIFIER}).get_json()


def end_session(client, tokens, state):
    return client.get("/logout", query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT,
                                               "state": state})


def claims_of(client, token: str) -> dict:
    header = jws.extract_compact(token.encode()).protected
    keys = client.get("/jwks").get_json()
    assert header["kid"] in {key["kid"] for key in keys["keys"]}
    return dict(jwt.decode(token, KeySet.import_key_set(keys), algorithms=[header["alg"]]).claims)


@pytest.mark.parametrize("channel", ["backchannel", "frontchannel"])
def test_logout_discovery_endpoint_verification(client, channel):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200 and response.mimetype == "application/json"
    meta = response.get_json()
    assert all(value.startswith(ISSUER) for key, value in meta.items() if key.endswith("_endpoint"))
    assert meta[f"{channel}_logout_supported"] is True
    assert meta[f"{channel}_logout_session_supported"] is True
    assert meta["end_session_endpoint"] == ISSUER + "/logout"


def test_backchannel_rp_initiated_logout(app, client, logout_op, receiver):
    rp = logout_op["backchannel"]
    tokens = signed_in(client, rp)
    id_token = claims_of(client, tokens["id_token"])
    state = logout_state()
    response = end_session(client, tokens, state)
    # (b) the browser goes back with the exact state and nothing else.
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert location.split("?")[0] == POST_LOGOUT and query_of(location) == {"state": state}
    # (a) the logout token, POSTed by the worker as the form's only parameter.
    Worker(app, jobs=("logout",)).run_once()
    assert len(receiver.received) == 1 and list(receiver.received[0]) == ["logout_token"]
    token = receiver.tokens()[0]
    assert jws.extract_compact(token.encode()).protected["typ"] == "logout+jwt"
    claims = claims_of(client, token)
    now = int(time.time())
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id or rp.client_id in claims["aud"]
    assert now - 86400 <= claims["iat"] <= now + 300
    assert claims["jti"]
    assert isinstance(claims["events"], dict) and list(claims["events"]) == [EVENT] and claims["events"][EVENT] == {}
    assert claims["sub"] == id_token["sub"] and claims["sid"] == id_token["sid"]
    assert "nonce" not in claims
    assert_session_ended(client, logout_op)


def test_frontchannel_rp_initiated_logout(client, logout_op):
    tokens = signed_in(client, logout_op["frontchannel"])
    id_token = claims_of(client, tokens["id_token"])
    state = logout_state()
    response = end_session(client, tokens, state)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    frames = [html.unescape(src) for src in re.findall(r'<iframe src="([^"]+)"', page)]
    assert len(frames) == 1 and frames[0].split("?")[0] == FRONTCHANNEL
    query = {key: values for key, values in parse_qs(urlsplit(frames[0]).query).items()}
    assert query == {"iss": [ISSUER], "sid": [id_token["sid"]]}
    location = html.unescape(re.search(r'<a href="([^"]+)" id="frontchannel-continue"', page).group(1))
    assert location.split("?")[0] == POST_LOGOUT and query_of(location) == {"state": state}
    assert_session_ended(client, logout_op)
