"""Rotating a client secret with an overlap (issue 16): both secrets authenticate until the
overlap ends, then only the new one; the previous secret is a keyed hash too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.context import app_context
from idp.extensions import db
from idp.oidc.client_secrets import (
    MAX_SECRET_OVERLAP,
    SECRET_PURPOSE,
    is_overlap_running,
    secret_matches,
)
from idp.oidc.clients import ClientService
from idp.oidc.directory import OAuthClient
from idp.oidc.errors import InvalidClientMetadata
from idp.security.secrets import KeyedHasher

WEB = "https://portal.example.ca/callback"


@pytest.fixture
def service(app):
    with app.app_context():
        context = app_context()
        yield ClientService(db.session, context.settings, context.clock, context.hasher)
        db.session.rollback()


def test_both_secrets_work_during_the_overlap_then_only_the_new_one(service, clock):
    client, old = service.create(name="Portal", redirect_uris=[WEB])
    new = service.rotate_secret(client.client_id, timedelta(hours=1))
    assert new != old
    assert client.previous_secret_hash == service.hasher.hash(SECRET_PURPOSE, old)  # a keyed hash, never the secret
    assert client.previous_secret_expires_at == clock() + timedelta(hours=1)
    assert service.is_secret_valid(client, old) and service.is_secret_valid(client, new)
    clock.advance(3599)
    assert service.is_secret_valid(client, old)
    clock.advance(1)
    assert not service.is_secret_valid(client, old)
    assert service.is_secret_valid(client, new)


def test_without_an_overlap_the_old_secret_stops_at_once(service):
    client, old = service.create(name="Portal", redirect_uris=[WEB])
    service.rotate_secret(client.client_id, timedelta(hours=1))
    newest = service.rotate_secret(client.client_id)
    assert client.previous_secret_hash is None and client.previous_secret_expires_at is None
    assert not service.is_secret_valid(client, old)
    assert service.is_secret_valid(client, newest)


def test_rotating_again_during_an_overlap_keeps_only_two_secrets(service):
    client, first = service.create(name="Portal", redirect_uris=[WEB])
    second = service.rotate_secret(client.client_id, timedelta(days=1))
    third = service.rotate_secret(client.client_id, timedelta(days=1))
    assert not service.is_secret_valid(client, first)
    assert service.is_secret_valid(client, second) and service.is_secret_valid(client, third)


@pytest.mark.parametrize("overlap", [timedelta(seconds=-1), MAX_SECRET_OVERLAP + timedelta(seconds=1)])
def test_an_overlap_out_of_bounds_is_refused(service, overlap):
    client, old = service.create(name="Portal", redirect_uris=[WEB])
    with pytest.raises(InvalidClientMetadata):
        service.rotate_secret(client.client_id, overlap)
    assert service.is_secret_valid(client, old)


def test_the_endpoints_snapshot_accepts_the_previous_secret_until_the_overlap_ends(service, clock):
    """OAuthClient.check_client_secret is what client_secret_basic and _post call."""
    client, old = service.create(name="Portal", redirect_uris=[WEB])
    new = service.rotate_secret(client.client_id, timedelta(minutes=10))
    snapshot = OAuthClient.from_record(client, service.hasher, clock)
    assert snapshot.check_client_secret(old) and snapshot.check_client_secret(new)
    assert not snapshot.check_client_secret(old + "x")
    clock.advance(600)
    assert not snapshot.check_client_secret(old) and snapshot.check_client_secret(new)


def test_secret_matches_without_a_secret_or_a_clock():
    hasher = KeyedHasher("k" * 32)
    current, previous = hasher.hash(SECRET_PURPOSE, "new"), hasher.hash(SECRET_PURPOSE, "old")
    from datetime import UTC, datetime

    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert not secret_matches(hasher, "old", None, previous, now + timedelta(1), now)
    assert not secret_matches(hasher, "old", current, previous, now + timedelta(1), None)  # no clock: no overlap
    assert not secret_matches(hasher, None, current, None, None, now)
    assert not is_overlap_running(previous, None, now) and not is_overlap_running(None, now, now)
    assert is_overlap_running(previous, now + timedelta(seconds=1), now)
