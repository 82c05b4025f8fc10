"""Claims helpers: pairwise subjects, scope mapping, the claims parameter, no null claims."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.oidc import claims


@given(sector=st.text(min_size=1, max_size=50), other=st.text(min_size=1, max_size=50), user=st.text(min_size=1, max_size=40))
def test_pairwise_subjects_are_stable_per_sector_and_differ_across_sectors(sector, other, user):
    first = claims.pairwise_subject("salt", sector, user)
    assert first == claims.pairwise_subject("salt", sector, user)
    assert len(first) == 43 and first.isascii()
    if sector != other:
        assert first != claims.pairwise_subject("salt", other, user)


def test_public_subject_is_the_users_own():
    assert claims.subject_for("public", "rp.example", "abc", "salt") == "abc"
    assert claims.subject_for("pairwise", "rp.example", "abc", "salt") != "abc"


def test_claims_for_scope_follow_oidc_core_5_4():
    available = {"email": "a@b.c", "email_verified": True, "name": "A B", "phone_number": "+15145550100"}
    assert claims.claims_for_scope("openid email", available) == {"email": "a@b.c", "email_verified": True}
    # The claims parameter selects among the scope's claims, never beyond them (issue 9).
    assert claims.claims_for_scope("openid", available, {"name": {"essential": True}}) == {}
    assert claims.claims_for_scope("openid profile email", available, {"name": None}) == {"name": "A B"}


def test_claims_parameter_keeps_only_what_the_granted_scope_releases():
    requested = {"id_token": {"email": None, "name": None, "acr": {"essential": True}},
                 "userinfo": {"phone_number": None, "email_verified": None}}
    assert claims.claims_within_scope(requested, "openid email") == {
        "id_token": {"email": None, "acr": {"essential": True}},  # protocol claims stay
        "userinfo": {"email_verified": None},
    }
    assert claims.claims_within_scope(requested, "openid") == {"id_token": {"acr": {"essential": True}}, "userinfo": {}}
    assert claims.claims_within_scope(None, "openid") is None

@pytest.mark.parametrize("raw", ["[", "[]", '"x"', '{"userinfo": 3}', '{"id_token": {"name": 4}}'])
def test_malformed_claims_parameter_is_refused(raw):
    with pytest.raises(claims.InvalidClaimsParameter):
        claims.parse_claims_parameter(raw)


def test_id_token_claims_never_hold_null():
    payload = claims.id_token_claims(issuer="https://op", subject="s", client_id="c", now=datetime.now(UTC), ttl=300,
                                     auth_time=None, nonce=None, acr=None, amr=None, sid=None, at_hash=None)
    assert None not in payload.values() and "nonce" not in payload and "auth_time" not in payload
