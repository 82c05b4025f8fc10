"""The outbox: queueing with caps, claiming once, backoff, erasing what was sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.audit import SecurityEvent
from idp.context import app_context
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.mail.services import QUEUED_IDS, MailService


@pytest.fixture
def mail_service(app):
    with app.app_context():
        ctx = app_context()
        yield MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)


def queue(service, to="ana@example.ca", user_id=None):
    return service.enqueue(to=to, template="hello", locale="en", context={"code": "123456"}, user_id=user_id)


def test_context_is_encrypted_at_rest_and_readable_by_the_sender(mail_service):
    message = queue(mail_service)
    assert b"123456" not in message.context_encrypted
    assert mail_service.context_of(message) == {"code": "123456"}
    assert db.session.info[QUEUED_IDS] == [message.id]


def test_unknown_locale_falls_back_to_the_default(mail_service):
    message = mail_service.enqueue(to="ana@example.ca", template="hello", locale="de", context={})
    assert message.locale == "fr"


@pytest.mark.settings(MAIL_MAX_PER_ADDRESS_PER_HOUR=3)
def test_an_address_gets_at_most_the_hourly_cap(mail_service, clock):
    assert all(queue(mail_service, to="Ana@Example.ca") is not None for _ in range(3))
    assert queue(mail_service) is None
    assert db.session.query(SecurityEvent).filter_by(tag="mail:capped").count() == 1
    clock.advance(hours=1, seconds=1)
    assert queue(mail_service) is not None


@pytest.mark.settings(MAIL_MAX_PER_ACCOUNT_PER_DAY=2, MAIL_MAX_PER_ADDRESS_PER_HOUR=100)
def test_an_account_gets_at_most_the_daily_cap_whatever_the_address(mail_service, app):
    from tests.oidc_support import make_user

    user_id = make_user(app)
    assert queue(mail_service, to="a@example.ca", user_id=user_id)
    assert queue(mail_service, to="b@example.ca", user_id=user_id)
    assert queue(mail_service, to="c@example.ca", user_id=user_id) is None


def test_a_message_is_claimed_once(mail_service):
    message = queue(mail_service)
    assert mail_service.claim(message.id) is not None
    assert mail_service.claim(message.id) is None  # leased to the first sender


def test_a_failed_message_waits_longer_each_time(mail_service, clock):
    message = queue(mail_service)
    delays = []
    for _ in range(3):
        claimed = mail_service.claim(message.id)
        mail_service.mark_failed(claimed, "SMTP down")
        delays.append(claimed.next_attempt_at - clock())
        assert mail_service.due_ids() == []
        clock.advance(seconds=delays[-1].total_seconds())
        assert mail_service.due_ids() == [message.id]
    assert delays == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]


@pytest.mark.settings(MAIL_MAX_ATTEMPTS=2)
def test_a_message_is_given_up_after_the_last_attempt(mail_service, clock):
    message = queue(mail_service)
    for _ in range(2):
        mail_service.mark_failed(mail_service.claim(message.id), "SMTP down")
        clock.advance(hours=1)
    assert mail_service.claim(message.id) is None
    assert mail_service.due_ids() == []


def test_sending_erases_the_context_and_purge_forgets_old_messages(mail_service, clock):
    message = queue(mail_service)
    mail_service.mark_sent(mail_service.claim(message.id))
    assert message.context_encrypted is None and message.sent_at == clock()
    assert mail_service.purge_sent() == 0
    clock.advance(days=3)
    assert mail_service.purge_sent() == 1
    assert db.session.get(OutboxMessage, message.id) is None
