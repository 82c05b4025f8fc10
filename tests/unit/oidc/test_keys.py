"""Signing keys: created once, encrypted at rest, rotated with publish-ahead, retired late."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt

from idp.context import app_context
from idp.extensions import db
from idp.oidc.keys import KeyService
from idp.oidc.models import SigningKey


@pytest.fixture
def keys(app):
    with app.app_context():
        ctx = app_context()
        yield KeyService(db.session, ctx.settings, ctx.clock, ctx.secret_box)


def test_first_keys_are_created_once_per_algorithm(keys):
    keys.ensure_keys()
    keys.ensure_keys()
    assert sorted(key.alg for key in keys.list()) == ["ES256", "RS256"]


def test_private_keys_are_encrypted_at_rest(keys):
    keys.ensure_keys()
    for row in keys.list():
        assert b"PRIVATE KEY" not in row.private_key_encrypted
        assert "d" not in row.public_jwk and row.public_jwk["kid"] == row.kid


def test_concurrent_creators_collide_on_one_generation(keys):
    keys.ensure_keys()
    winner = keys.list()[0]
    # A second worker that also saw an empty table adds the same generation: it gets the winner's row.
    assert keys._add(winner.alg, winner.activates_at, generation=1).kid == winner.kid
    assert len([k for k in keys.list() if k.alg == winner.alg]) == 1


def test_rotation_publishes_first_then_signs_then_retires(keys, clock):
    keys.ensure_keys()
    old = keys.load_active()
    keys.rotate(publish_ahead=600)
    published = keys.load_active()
    assert len(published.published) == 4  # new keys are in the JWKS at once
    assert published.signing["ES256"][0] == old.signing["ES256"][0]  # but do not sign yet
    clock.advance(601)
    switched = keys.load_active()
    assert switched.signing["ES256"][0] != old.signing["ES256"][0]
    assert old.signing["ES256"][0] in switched.published  # old tokens still verify
    clock.advance(timedelta(hours=1).total_seconds())
    assert old.signing["ES256"][0] not in keys.load_active().published


def test_signatures_verify_with_the_published_key(keys):
    keys.ensure_keys()
    active = keys.load_active()
    kid, key = active.signing["RS256"]
    token = jwt.encode({"alg": "RS256", "kid": kid}, {"sub": "x"}, key)
    assert jwt.decode(token, active.published[kid], algorithms=["RS256"]).claims == {"sub": "x"}


def test_wrong_encryption_key_is_refused(app, keys):
    keys.ensure_keys()
    ctx = app_context()
    from idp.security.encryption import DecryptionFailed, SecretBox

    other = KeyService(db.session, ctx.settings, ctx.clock, SecretBox("another key"))
    with pytest.raises(DecryptionFailed):
        other.load_active()
    assert db.session.query(SigningKey).count() == 2
