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


def queue_code(service, to="ana@example.ca", user_id=None):
    return service.enqueue(to=to, template="signin-code", locale="en", context={"code": "123456"}, user_id=user_id)


@pytest.mark.settings(MAIL_MAX_PER_ADDRESS_PER_HOUR=2, MAIL_MAX_PER_ACCOUNT_PER_DAY=3)
def test_a_sign_in_code_is_sent_when_other_mail_filled_the_shared_caps(mail_service, app):
    """Anybody can cause "can't sign in?" mail to an address; that must not stop its owner
    from receiving the code that signs them in."""
    from tests.oidc_support import make_user

    user_id = make_user(app)
    while queue(mail_service, user_id=user_id) is not None:
        pass
    assert queue_code(mail_service, user_id=user_id) is not None


@pytest.mark.settings(MAIL_MAX_PER_ADDRESS_PER_HOUR=2, MAIL_MAX_PER_ACCOUNT_PER_DAY=2)
def test_sign_in_codes_do_not_count_against_the_shared_caps(mail_service, app):
    from tests.oidc_support import make_user

    user_id = make_user(app)
    for _ in range(3):
        assert queue_code(mail_service, user_id=user_id) is not None
    assert queue(mail_service, user_id=user_id) is not None
    assert queue(mail_service, user_id=user_id) is not None
    assert queue(mail_service, user_id=user_id) is None


@pytest.mark.settings(MFA_EMAIL_CODE_DAILY_CAP=3, MAIL_MAX_PER_ADDRESS_PER_HOUR=100)
def test_sign_in_codes_keep_their_own_daily_cap(mail_service, app, clock):
    from tests.oidc_support import make_user

    user_id = make_user(app)
    for _ in range(3):
        assert queue_code(mail_service, to="Ana@Example.ca", user_id=user_id) is not None
    assert queue_code(mail_service, user_id=user_id) is None
    assert queue_code(mail_service, to="ana-other@example.ca", user_id=user_id) is None  # per account too
    assert queue_code(mail_service, to="ana@example.ca") is None  # and per address
    capped = db.session.query(SecurityEvent).filter_by(tag="mail:capped").all()
    assert [event.details["template"] for event in capped] == ["signin-code"] * 3
    clock.advance(days=1, seconds=1)
    assert queue_code(mail_service, user_id=user_id) is not None


def test_last_queued_at_is_the_newest_message_of_those_templates_for_the_account(mail_service, app, clock):
    from tests.oidc_support import make_user

    user_id = make_user(app)
    assert mail_service.last_queued_at(user_id, ("password-reset", "activation")) is None
    mail_service.enqueue(to="ana@example.ca", template="activation", locale="fr", context={}, user_id=user_id)
    queued_at = clock()
    clock.advance(minutes=5)
    queue(mail_service, user_id=user_id)  # another template
    queue_code(mail_service, to="ana@example.ca")  # no account
    assert mail_service.last_queued_at(user_id, ("password-reset", "activation")) == queued_at
    assert mail_service.last_queued_at(user_id, ("password-reset",)) is None


# Issue 9, item 11: time-critical mail, dead letters, a Message-ID kept across retries.


def test_a_message_gets_its_message_id_when_it_is_queued(mail_service):
    first, second = queue(mail_service), queue(mail_service)
    assert first.message_id.startswith("<") and first.message_id.endswith("@passerelle.invalid>")
    assert first.message_id != second.message_id
    claimed = mail_service.claim(first.id)
    mail_service.mark_failed(claimed, "451 try later")
    assert claimed.message_id == first.message_id  # a retry sends the same message


def test_a_code_message_expires_with_its_code_and_other_mail_does_not(mail_service, clock):
    settings = mail_service.settings
    code = queue_code(mail_service)
    registration = mail_service.enqueue(to="ana@example.ca", template="registration-code", locale="en", context={})
    assert code.expires_at == clock() + timedelta(seconds=settings.MFA_EMAIL_CODE_TTL)
    assert registration.expires_at == clock() + timedelta(seconds=settings.REGISTRATION_CODE_TTL)
    reset = mail_service.enqueue(to="ana@example.ca", template="password-reset", locale="en", context={})
    assert reset.expires_at == clock() + timedelta(seconds=settings.PASSWORD_RESET_TTL)
    assert queue(mail_service).expires_at is None
    assert code.state == "queued"


def test_an_expired_message_is_dropped_not_sent(mail_service, clock):
    message = queue_code(mail_service)
    clock.advance(seconds=180)
    claimed = mail_service.claim(message.id)
    assert mail_service.is_expired(claimed)
    mail_service.mark_expired(claimed)
    assert claimed.state == "expired" and claimed.sent_at is None and claimed.context_encrypted is None
    assert mail_service.due_ids() == [] and mail_service.claim(message.id) is None


def test_was_dropped_says_whether_a_code_could_not_be_sent_in_time(mail_service, app, clock):
    from tests.oidc_support import make_user

    user_id = make_user(app)
    queued_at = clock()
    message = queue_code(mail_service, user_id=user_id)
    assert not mail_service.was_dropped(user_id, "signin-code", queued_at)  # still on its way
    clock.advance(seconds=180)
    assert mail_service.was_dropped(user_id, "signin-code", queued_at)  # past its lifetime, unsent
    mail_service.mark_expired(mail_service.claim(message.id))
    assert mail_service.was_dropped(user_id, "signin-code", queued_at)
    assert not mail_service.was_dropped(user_id, "registration-code", queued_at)
    clock.advance(seconds=1)
    later = clock()
    mail_service.mark_sent(mail_service.claim(queue_code(mail_service, user_id=user_id).id))
    assert not mail_service.was_dropped(user_id, "signin-code", later)  # the newer code was sent


def test_a_permanent_refusal_is_a_dead_letter_at_once(mail_service, clock):
    message = queue(mail_service)
    claimed = mail_service.claim(message.id)
    mail_service.mark_failed(claimed, "550 5.1.1 mailbox unavailable", smtp_code=550, permanent=True)
    assert claimed.state == "failed" and claimed.failed_at == clock() and claimed.smtp_code == 550
    clock.advance(hours=2)
    assert mail_service.due_ids() == [] and mail_service.claim(message.id) is None
    assert [letter.id for letter in mail_service.dead_letters()] == [message.id]


@pytest.mark.settings(MAIL_MAX_ATTEMPTS=2)
def test_retries_exhausted_make_a_dead_letter_too(mail_service, clock):
    message = queue(mail_service)
    for _ in range(2):
        mail_service.mark_failed(mail_service.claim(message.id), "451 try later", smtp_code=451)
        clock.advance(hours=1)
    assert message.state == "failed" and message.smtp_code == 451
    assert [letter.id for letter in mail_service.dead_letters()] == [message.id]


def test_a_dead_letter_can_be_queued_again(mail_service, clock):
    from idp.mail.errors import NotADeadLetter

    message = queue(mail_service)
    mail_service.mark_failed(mail_service.claim(message.id), "550 no", smtp_code=550, permanent=True)
    mail_service.requeue(message.id)
    assert message.state == "queued" and message.attempts == 0 and mail_service.due_ids() == [message.id]
    with pytest.raises(NotADeadLetter):
        mail_service.requeue(message.id)
    with pytest.raises(NotADeadLetter):
        mail_service.requeue(10_000)
