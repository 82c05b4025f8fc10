"""AccountHomeService on a real database: changing the password, live sessions, signing out
everywhere else, recent activity; and the device names shown for sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts.devices import describe_user_agent
from idp.accounts.errors import (
    IncorrectCurrentPassword,
    TooManyPasswordAttempts,
    WeakPassword,
)
from idp.accounts.home import AccountHomeService
from idp.accounts.throttle import SigninThrottle
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from idp.recovery.errors import ResetLinkReplaced
from idp.signin.assurance import ACR_PASSWORD
from idp.signin.sessions import SessionService
from tests.unit.recovery.conftest import NEW_PASSWORD, PASSWORD


@pytest.fixture
def home(ctx) -> AccountHomeService:
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    return AccountHomeService(
        db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, mail,
        throttle=SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail),
    )


@pytest.fixture
def sessions(ctx) -> SessionService:
    return SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher)


def start(sessions, user, clock, agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"):
    return sessions.create(user.id, ["pwd"], ACR_PASSWORD, clock(), agent)[0]


def change(home, user, current, new=NEW_PASSWORD, **origin):
    return home.change_password(user.id, keep_session_id=0, plain_current=current, plain_new=new, locale="fr", **origin)


def test_a_wrong_current_password_is_refused_counted_and_recorded(home, user, ctx):
    with pytest.raises(IncorrectCurrentPassword):
        change(home, user, "wrong", ip_address="192.0.2.1")
    assert user.failed_signin_count == 1
    [event] = db.session.scalars(select(SecurityEvent))
    assert (event.tag, event.ip_address) == (EventTag.PASSWORD_CHANGE_FAILURE, "192.0.2.1")
    assert ctx.passwords.verify(user.password_hash, PASSWORD)


def test_once_locked_even_the_right_current_password_is_not_checked(home, user, ctx, clock):
    threshold = ctx.settings.SIGNIN_LOCK_THRESHOLD
    for _ in range(threshold):
        with pytest.raises((IncorrectCurrentPassword, TooManyPasswordAttempts)):
            change(home, user, "wrong")
        clock.advance(seconds=ctx.settings.SIGNIN_MAX_DELAY)  # wait out each progressive delay
    assert user.failed_signin_count == threshold
    with pytest.raises(TooManyPasswordAttempts):
        change(home, user, PASSWORD)
    assert ctx.passwords.verify(user.password_hash, PASSWORD)
    assert db.session.scalars(select(OutboxMessage.template)).all() == ["account-locked"]


def test_a_weak_new_password_is_refused(home, user):
    with pytest.raises(WeakPassword):
        home.change_password(user.id, keep_session_id=0, plain_current=PASSWORD, plain_new="ana@example.ca-Long-1",
                             locale="fr")


def test_changing_the_password_keeps_this_session_ends_the_others_and_notifies(home, user, sessions, clock, ctx, recovery):
    here, elsewhere, other = (start(sessions, user, clock) for _ in range(3))
    plain_token = recovery.issue_reset(user)
    home.change_password(user.id, keep_session_id=here.id, plain_current=PASSWORD, plain_new=NEW_PASSWORD, locale="en")
    db.session.commit()
    assert ctx.passwords.verify(user.password_hash, NEW_PASSWORD)
    assert here.ended_at is None and elsewhere.ended_at is not None and other.ended_at is not None
    with pytest.raises(ResetLinkReplaced):  # an outstanding reset link would undo the change
        recovery.find_reset(plain_token)
    [message] = db.session.scalars(select(OutboxMessage))
    assert (message.template, message.locale) == ("password-changed", "en")
    assert home.mail.context_of(message)["by_reset"] is False
    assert [event.tag for event in home.recent_activity(user.id)] == [EventTag.PASSWORD_CHANGED]


def test_live_sessions_leave_out_ended_idle_and_expired_ones_newest_first(home, user, sessions, clock, ctx):
    old = start(sessions, user, clock)
    clock.advance(seconds=ctx.settings.SESSION_IDLE_TIMEOUT)  # old is idle for the full timeout now
    ended = start(sessions, user, clock)
    sessions.end(ended.id)
    clock.advance(seconds=60)
    recent = start(sessions, user, clock)
    clock.advance(seconds=60)
    newest = start(sessions, user, clock)
    assert [each.id for each in home.live_sessions(user.id)] == [newest.id, recent.id]
    assert old.id not in [each.id for each in home.live_sessions(user.id)]
    clock.advance(seconds=ctx.settings.SESSION_MAX_AGE)
    newest.last_seen_at = clock()  # active a moment ago, but past the absolute limit (SES-04)
    assert home.live_sessions(user.id) == []


def test_signing_out_everywhere_else_ends_only_the_others(home, user, sessions, clock, accounts):
    here, elsewhere = start(sessions, user, clock), start(sessions, user, clock)
    someone = accounts.create_user("leo@example.ca", "Léo", "Roy", PASSWORD)
    theirs = start(sessions, someone, clock)
    assert home.end_other_sessions(user.id, here.id, ip_address="192.0.2.3") == 1
    db.session.commit()
    assert here.ended_at is None and elsewhere.ended_at is not None and theirs.ended_at is None
    [event] = home.recent_activity(user.id)
    assert (event.tag, event.details, event.ip_address) == (EventTag.SESSIONS_ENDED, {"count": 1}, "192.0.2.3")


def test_recent_activity_is_the_persons_own_newest_first(home, user, clock, accounts, ctx):
    from idp.audit import record_event

    someone = accounts.create_user("leo@example.ca", "Léo", "Roy", PASSWORD)
    record_event(db.session, clock, EventTag.SIGNIN_SUCCESS, user_id=user.id)
    clock.advance(seconds=5)
    record_event(db.session, clock, EventTag.SIGNIN_FAILURE, user_id=user.id)
    record_event(db.session, clock, EventTag.SIGNIN_SUCCESS, user_id=someone.id)
    db.session.flush()
    assert [event.tag for event in home.recent_activity(user.id)] == [EventTag.SIGNIN_FAILURE, EventTag.SIGNIN_SUCCESS]
    assert len(home.recent_activity(user.id, limit=1)) == 1


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
         ("Chrome", "Linux")),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
         ("Chrome", "Linux")),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 "
         "Edg/126.0", ("Edge", "Windows")),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
         "Safari/605.1.15", ("Safari", "macOS")),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Mobile/15E148 Safari/604.1", ("Safari", "iOS")),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 "
         "Mobile/15E148 Safari/604.1", ("Chrome", "iOS")),
        ("Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0", ("Firefox", "Android")),
        ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 "
         "Chrome/121.0 Mobile Safari/537.36", ("Samsung Internet", "Android")),
        ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", ("Firefox", "Linux")),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
         ("Chrome", "ChromeOS")),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 "
         "OPR/111.0", ("Opera", "Windows")),
        ("Werkzeug/3.1.3", (None, None)),
        ("curl/8.5.0", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("Safari/537.36 \x00\r\n<script>", (None, None)),
    ],
)
def test_devices_are_named_by_browser_and_system_or_unknown(user_agent, expected):
    assert describe_user_agent(user_agent) == expected


def test_every_event_tag_has_a_sentence_on_the_account_home():
    """A new EventTag must come with its translated sentence, or the person reads "other"."""
    from idp.accounts.views import EVENT_SENTENCES

    assert set(EventTag) <= set(EVENT_SENTENCES)
