"""private_key_jwt assertions live a short while (OIDC_CLIENT_ASSERTION_MAX_AGE): an
assertion valid for a year, or signed a day ago, does not authenticate (issue 9 item 4;
Keycloak CVE-2023-0105's kind). Times come from the injected clock, with a small leeway."""

from __future__ import annotations

import secrets

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.oidc_support import make_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_URL = "http://127.0.0.1:5000/token"


@pytest.fixture
def signer(app):
    key = RSAKey.generate_key(2048)
    rp = make_client(app, auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]},
                     grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())
    return key, rp


def token_request(http, clock, signer, *, iat_offset: int | None = 0, lifetime: int = 60, now: int | None = None):
    key, rp = signer
    now = int(clock().timestamp()) if now is None else now
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": TOKEN_URL, "jti": secrets.token_urlsafe(15)}
    issued_at = now + (iat_offset or 0)
    if iat_offset is not None:
        claims["iat"] = issued_at
    claims["exp"] = issued_at + lifetime
    signed = jwt.encode({"alg": "RS256"}, claims, key)
    return http.post("/token", data={"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                                     "client_assertion": signed})


def assert_refused(response):
    assert response.status_code in (400, 401), response.get_json()
    assert response.get_json()["error"] == "invalid_client"


def test_assertion_valid_for_a_year_is_refused(app, client, clock, signer):
    assert_refused(token_request(client, clock, signer, lifetime=365 * 24 * 3600))


def test_assertion_signed_a_day_ago_is_refused(app, client, clock, signer):
    assert_refused(token_request(client, clock, signer, iat_offset=-24 * 3600, lifetime=25 * 3600))


def test_assertion_past_the_maximum_age_is_refused_even_if_unexpired(app, client, clock, signer):
    assert_refused(token_request(client, clock, signer, iat_offset=-400, lifetime=420))


def test_assertion_without_iat_is_refused(app, client, clock, signer):
    assert_refused(token_request(client, clock, signer, iat_offset=None, lifetime=60))


def test_assertion_issued_in_the_future_beyond_the_leeway_is_refused(app, client, clock, signer):
    assert_refused(token_request(client, clock, signer, iat_offset=120, lifetime=60))


@pytest.mark.parametrize(("iat_offset", "lifetime"), [(0, 60), (0, 300), (-290, 300), (20, 60), (-320, 300)])
def test_short_assertions_authenticate_within_the_clock_skew_leeway(app, client, clock, signer, iat_offset, lifetime):
    response = token_request(client, clock, signer, iat_offset=iat_offset, lifetime=lifetime)
    assert response.status_code == 200, response.get_json()


def test_assertion_times_are_read_from_the_injected_clock(app, client, clock, signer):
    signed_at = int(clock().timestamp())
    assert token_request(client, clock, signer, now=signed_at).status_code == 200
    clock.advance(3600)  # the server's time moved on: an assertion made then is stale now
    assert_refused(token_request(client, clock, signer, now=signed_at, lifetime=3700))
