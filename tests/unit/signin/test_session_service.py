"""SessionService on a real database: hashed handles, idle and absolute limits (SES-01,
SES-02, SES-04, SES-05), moved by the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.signin.assurance import ACR_PASSWORD, AMR_PASSWORD


@pytest.fixture
def started(session_service, user, clock):
    return session_service.create(user.id, [AMR_PASSWORD], ACR_PASSWORD, clock(), "pytest browser")


def test_a_session_records_how_and_when_the_person_authenticated(started, user, clock):
    user_session, plain_handle = started
    assert user_session.user_id == user.id
    assert user_session.amr == ["pwd"] and user_session.acr == "urn:passerelle:acr:pwd"
    assert user_session.auth_time == clock()
    assert len(user_session.sid) >= 22 and user_session.sid != plain_handle
    assert user_session.handle_hash != plain_handle and len(plain_handle) >= 43
    assert user_session.user_agent == "pytest browser"


def test_find_active_needs_the_exact_handle(session_service, started):
    user_session, plain_handle = started
    assert session_service.find_active(plain_handle) is user_session
    assert session_service.find_active(plain_handle[:-1]) is None
    assert session_service.find_active(user_session.handle_hash) is None
    assert session_service.find_active(None) is None


def test_every_session_gets_its_own_handle_and_sid(session_service, user, clock):
    first, first_handle = session_service.create(user.id, ["pwd"], ACR_PASSWORD, clock(), None)
    second, second_handle = session_service.create(user.id, ["pwd"], ACR_PASSWORD, clock(), None)
    assert first_handle != second_handle
    assert first.sid != second.sid


def test_an_idle_session_ends_after_the_idle_timeout(session_service, started, clock, ctx):
    _session, plain_handle = started
    clock.advance(ctx.settings.SESSION_IDLE_TIMEOUT - 1)
    assert session_service.find_active(plain_handle) is not None
    clock.advance(ctx.settings.SESSION_IDLE_TIMEOUT)
    assert session_service.find_active(plain_handle) is None


def test_activity_keeps_a_session_alive_past_the_idle_timeout(session_service, started, clock, ctx):
    _session, plain_handle = started
    for _ in range(4):
        clock.advance(ctx.settings.SESSION_IDLE_TIMEOUT * 2 // 3)
        assert session_service.find_active(plain_handle) is not None


def test_even_an_active_session_ends_at_its_absolute_limit(session_service, started, clock, ctx):
    _session, plain_handle = started
    step = ctx.settings.SESSION_IDLE_TIMEOUT // 2
    elapsed = 0
    while elapsed + step < ctx.settings.SESSION_MAX_AGE:
        clock.advance(step)
        elapsed += step
        assert session_service.find_active(plain_handle) is not None
    clock.advance(ctx.settings.SESSION_MAX_AGE - elapsed)
    assert session_service.find_active(plain_handle) is None


@pytest.mark.settings(SESSION_IDLE_TIMEOUT=60, SESSION_MAX_AGE=600)
def test_the_limits_come_from_settings(session_service, user, clock):
    _session, plain_handle = session_service.create(user.id, ["pwd"], ACR_PASSWORD, clock(), None)
    clock.advance(61)
    assert session_service.find_active(plain_handle) is None


def test_last_seen_is_written_at_most_once_a_minute(session_service, started, clock):
    user_session, plain_handle = started
    created = user_session.last_seen_at
    clock.advance(30)
    session_service.find_active(plain_handle)
    assert user_session.last_seen_at == created
    clock.advance(31)
    session_service.find_active(plain_handle)
    assert user_session.last_seen_at == created + timedelta(seconds=61)


def test_an_ended_session_is_no_longer_found(session_service, started):
    user_session, plain_handle = started
    session_service.end(user_session.id)
    assert user_session.ended_at is not None
    assert session_service.find_active(plain_handle) is None


def test_ending_all_of_a_persons_sessions(session_service, user, clock):
    handles = [session_service.create(user.id, ["pwd"], ACR_PASSWORD, clock(), None)[1] for _ in range(3)]
    assert session_service.end_all_for_user(user.id) == 3
    assert all(session_service.find_active(handle) is None for handle in handles)
    assert session_service.end_all_for_user(user.id) == 0


def test_a_disabled_persons_session_stops_working(session_service, started, user, clock):
    _session, plain_handle = started
    user.disabled_at = clock()
    assert session_service.find_active(plain_handle) is None
