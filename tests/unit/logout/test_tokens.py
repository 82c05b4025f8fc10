"""Logout token claims (Back-Channel Logout 1.0 §2.4) and the delivery retry policy, with
the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.logout.tokens import BACKCHANNEL_LOGOUT_EVENT, decide, logout_token_claims
from tests.support import FrozenClock

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_claims_carry_what_section_2_4_requires_and_never_a_nonce():
    claims = logout_token_claims(issuer="https://passerelle.example", client_id="portal", subject="pairwise-sub",
                                 sid="abc", now=NOW, ttl=120)
    assert claims["iss"] == "https://passerelle.example" and claims["aud"] == "portal"
    assert claims["iat"] == int(NOW.timestamp()) and claims["exp"] == claims["iat"] + 120
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert claims["sub"] == "pairwise-sub" and claims["sid"] == "abc"
    assert len(claims["jti"]) >= 32 and "nonce" not in claims


def test_every_token_gets_its_own_jti():
    first, second = (logout_token_claims(issuer="i", client_id="c", subject="s", sid="x", now=NOW, ttl=60)
                     for _ in range(2))
    assert first["jti"] != second["jti"]


def test_sid_alone_or_sub_alone_is_enough_but_not_neither():
    assert "sub" not in logout_token_claims(issuer="i", client_id="c", subject=None, sid="x", now=NOW, ttl=60)
    assert "sid" not in logout_token_claims(issuer="i", client_id="c", subject="s", sid=None, now=NOW, ttl=60)
    with pytest.raises(ValueError):
        logout_token_claims(issuer="i", client_id="c", subject=None, sid=None, now=NOW, ttl=60)


@pytest.mark.parametrize("status", [200, 204])
def test_2xx_is_delivered(status):
    assert decide(status, attempt=1, max_attempts=3, now=NOW, base_delay=30).state == "delivered"


@pytest.mark.parametrize("status", [400, 401, 404, 302, 100])
def test_4xx_and_redirects_are_never_retried(status):
    assert decide(status, attempt=1, max_attempts=6, now=NOW, base_delay=30).state == "failed"


@pytest.mark.parametrize("status", [None, 500, 502, 503])
def test_network_errors_and_5xx_are_retried_with_back_off_until_the_last_attempt(status):
    clock = FrozenClock(NOW)
    waits = []
    for attempt in range(1, 6):
        outcome = decide(status, attempt=attempt, max_attempts=6, now=clock(), base_delay=30)
        assert outcome.state == "retry"
        waits.append(outcome.retry_at - clock())
        clock.advance(seconds=(outcome.retry_at - clock()).total_seconds())
    assert waits == [timedelta(seconds=30 * 2 ** n) for n in range(5)]
    assert decide(status, attempt=6, max_attempts=6, now=clock(), base_delay=30).state == "failed"


def test_the_back_off_stops_growing_at_an_hour():
    outcome = decide(None, attempt=20, max_attempts=50, now=NOW, base_delay=30)
    assert outcome.retry_at - NOW == timedelta(hours=1)
