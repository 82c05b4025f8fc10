"""The partner's keys are cached, refreshed on an unknown kid with a bound, and a slow
partner is a partner that is down (issue 5, The broker)."""

from __future__ import annotations

import time

import pytest

from idp.context import app_context
from idp.extensions import db
from idp.federation.models import PartnerRequest
from idp.oidc.keys import KeyService
from tests.federation_support import (
    TamperingSession,
    back_at_broker,
    leave_for_partner,
    sign_in_at_partner,
)
from tests.integration.federation.test_broker import partner_signin
from tests.oidc_support import authorization_params, make_client


class CountingSession(TamperingSession):
    """The back channel, counting what it fetches."""

    def __init__(self):
        super().__init__()
        self.fetched: list[str] = []

    def get(self, url, *args, **kwargs):
        self.fetched.append(url)
        return super().get(url, *args, **kwargs)


def rotate_partner_keys(partner):
    with partner.app.app_context():
        ctx = app_context()
        KeyService(db.session, ctx.settings, ctx.clock, ctx.secret_box).rotate(publish_ahead=0)
        db.session.commit()


def test_keys_are_cached_and_fetched_again_when_the_partner_rotates(broker, partner, clock):
    counting = CountingSession()
    broker.extensions["idp_partner_http"] = counting
    rp = make_client(broker)
    partner_signin(broker.test_client(), partner, rp)
    partner_signin(broker.test_client(), partner, rp)
    assert sum(url.endswith("/jwks") for url in counting.fetched) == 1  # cached

    clock.advance(broker.config["PARTNER_KEYS_MIN_REFRESH"] + 1)
    rotate_partner_keys(partner)  # the next ID token has a kid the cache does not know
    _, _, _, done = partner_signin(broker.test_client(), partner, rp)
    assert done.headers["Location"].startswith(rp.redirect_uri)
    assert sum(url.endswith("/jwks") for url in counting.fetched) == 2


def test_an_unknown_kid_refreshes_the_keys_at_most_once_per_bound(broker, partner, clock):
    counting = CountingSession()
    broker.extensions["idp_partner_http"] = counting
    partner_signin(broker.test_client(), partner, make_client(broker))  # the keys are fetched
    clock.advance(broker.config["PARTNER_KEYS_MIN_REFRESH"] + 1)
    counting.tamper = lambda body: {**body, "id_token": forged_kid(partner, body["id_token"])}
    for _ in range(3):
        http = broker.test_client()
        http.get("/authorize", query_string=authorization_params(make_client(broker)))
        answer = back_at_broker(http, sign_in_at_partner(partner, leave_for_partner(http).headers["Location"]))
        assert answer.status_code == 400
    # The first fetch, then one refresh for the unknown kid; the bound stops the others.
    assert sum(url.endswith("/jwks") for url in counting.fetched) == 2


def forged_kid(partner, id_token: str) -> str:
    """The token signed by a key the partner never published."""
    import base64
    import json

    from joserfc import jwt
    from joserfc.jwk import ECKey

    payload = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "==="))
    return jwt.encode({"alg": "ES256", "kid": "unknown-kid"}, payload, ECKey.generate_key("P-256"))


@pytest.mark.settings(PARTNER_HTTP_TIMEOUT=0.2)
def test_a_slow_partner_gets_the_partner_is_not_responding_page(broker, http, partner):
    served = partner.server._server.app

    def slow(environ, start_response):
        time.sleep(0.5)  # the partner is slow, not the test: the broker gives up at 0.2 s
        return served(environ, start_response)

    partner.server._server.app = slow
    http.get("/authorize", query_string=authorization_params(make_client(broker)))
    response = leave_for_partner(http)
    assert response.status_code == 503
    with broker.app_context():
        assert db.session.query(PartnerRequest).count() == 0
