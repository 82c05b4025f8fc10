"""The mail outbox in the console (issue 16): operators only, the recipient masked and never
a message's content, retry (back to queued now) and discard with a reason and an audit
event, and never a message a sender may be sending right now (the senders' claim rules)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.console.roles import OPERATOR, SERVICE_DESK
from idp.context import app_context
from idp.extensions import db
from idp.mail.delivery import deliver, get_mail_service
from idp.mail.models import OutboxMessage, OutboxState
from tests.console_support import make_agent, sign_in_as
from tests.oidc_support import csrf_token

# Sending after the response would race the tests for the outbox's rows.
pytestmark = pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
CODE = "918273"


@pytest.fixture
def operator_id(app):
    return make_agent(app, "ops@example.ca", OPERATOR)


def queue(app, to="zoe.citoyenne@example.ca", template="password-reset", **state) -> int:
    """A message with a code in its context, in the given state."""
    with app.app_context():
        message = get_mail_service().enqueue(to=to, template=template, locale="fr",
                                             context={"code": CODE, "link": "http://127.0.0.1:5000/r?t=SECRETLINK"})
        for name, value in state.items():
            setattr(message, name, value)
        db.session.commit()
        return message.id


def dead_letter(app, clock, **state) -> int:
    return queue(app, state=OutboxState.FAILED, attempts=12, last_error="550 5.1.1 <zoe.citoyenne@example.ca>: no such user",
                 smtp_code=550, failed_at=clock(), expires_at=None, **state)


def message(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        found = db.session.get(OutboxMessage, message_id)
        db.session.expunge(found)
        return found


def events(app, tag: EventTag) -> list[SecurityEvent]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


def act(client, message_id: int, action: str, reason: str = "Relais réparé"):
    form = client.get(f"/admin/mail/{message_id}/{action}")
    assert form.status_code == 200, form.text
    return client.post(f"/admin/mail/{message_id}/{action}", data={"csrf_token": csrf_token(form.text), "reason": reason})


def test_service_desk_gets_a_403_page_on_mail(app, client, clock):
    letter = dead_letter(app, clock)
    desk_id = make_agent(app, "desk@example.ca", SERVICE_DESK)
    sign_in_as(app, client, desk_id)
    for path in ("/admin/mail", f"/admin/mail/{letter}/retry", f"/admin/mail/{letter}/discard"):
        page = client.get(path)
        assert page.status_code == 403 and "Not part of your role" in page.text
    assert len(events(app, EventTag.CONSOLE_ACCESS_REFUSED)) == 3
    assert message(app, letter).state == OutboxState.FAILED


def test_the_outbox_masks_recipients_and_never_shows_content(app, client, operator_id, clock):
    waiting = queue(app)
    retrying = queue(app, to="ana@example.ca", template="unlock", attempts=2, last_error="timed out",
                     next_attempt_at=clock() + timedelta(minutes=30))
    letter = dead_letter(app, clock)
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/mail")
    assert page.status_code == 200
    text = page.text
    assert "z***@example.ca" in text and "a***@example.ca" in text
    assert "zoe.citoyenne@example.ca" not in text and "ana@example.ca" not in text
    assert CODE not in text and "SECRETLINK" not in text
    assert "password-reset" in text and "unlock" in text and "timed out" in text and "550" in text
    assert text.index("Waiting to be sent") < text.index(f"Discard message {waiting}")
    assert text.index("Failed, waiting for a retry") < text.index(f"Send message {retrying} again")
    assert text.index("Dead letters") < text.index(f"Send message {letter} again")
    assert f"Send message {waiting} again" not in text  # already due


def test_retrying_a_dead_letter_queues_it_now_with_a_reason(app, client, operator_id, clock, mailbox):
    letter = dead_letter(app, clock)
    sign_in_as(app, client, operator_id)
    form = client.get(f"/admin/mail/{letter}/retry")
    assert CODE not in form.text and "z***@example.ca" in form.text
    empty = client.post(f"/admin/mail/{letter}/retry", data={"csrf_token": csrf_token(form.text), "reason": ""})
    assert empty.status_code == 422 and "Write the reason for this action" in empty.text
    assert client.post(f"/admin/mail/{letter}/retry", data={"reason": "x"}).status_code == 400  # no CSRF token
    done = act(client, letter, "retry")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/mail?done=retry"
    assert "The message is queued again." in client.get(done.headers["Location"]).text
    again = message(app, letter)
    assert again.state == OutboxState.QUEUED and again.attempts == 0 and again.next_attempt_at == clock()
    [event] = events(app, EventTag.CONSOLE_MAIL_RETRIED)
    assert event.details == {**event.details, "agent_id": operator_id, "reason": "Relais réparé", "message": letter,
                             "template": "password-reset", "to": "z***@example.ca", "was": "dead"}
    twice = act(client, letter, "retry")
    assert twice.status_code == 422 and "Nothing to do" in twice.text
    with app.app_context():
        assert deliver() == (1, 0)  # the worker sends it once


def test_retrying_a_message_waiting_for_its_backoff_makes_it_due(app, client, operator_id, clock):
    later = queue(app, attempts=3, last_error="timed out", next_attempt_at=clock() + timedelta(minutes=20))
    sign_in_as(app, client, operator_id)
    assert act(client, later, "retry").status_code == 303
    assert message(app, later).next_attempt_at == clock() and message(app, later).attempts == 3


def test_a_message_a_sender_may_hold_is_left_alone(app, client, operator_id, clock):
    """A sender's claim makes next_attempt_at now + CLAIM_LEASE: neither retry nor discard
    may touch it then (it could be sent twice, or sent while reported discarded)."""
    claimed = queue(app)
    with app.app_context():
        assert get_mail_service().claim(claimed) is not None
        db.session.commit()
    sign_in_as(app, client, operator_id)
    for action in ("retry", "discard"):
        refused = act(client, claimed, action)
        assert refused.status_code == 422 and "A sender may be sending this message right now" in refused.text
    held = message(app, claimed)
    assert held.state == OutboxState.QUEUED and held.attempts == 1
    assert events(app, EventTag.CONSOLE_MAIL_DISCARDED) == []


@pytest.mark.parametrize(("ahead", "busy"), [(timedelta(minutes=2), True), (timedelta(minutes=3), True),
                                             (timedelta(minutes=3, seconds=1), False)])
def test_a_retry_further_ahead_than_any_claim_may_be_hurried(app, clock, ahead, busy):
    """Past a claim's lease (2 minutes) and the hosts' clock margin (1 minute), a message
    waiting for its retry cannot be one a sender holds."""
    from idp.mail.errors import MessageBusy

    waiting = queue(app, attempts=1, last_error="timed out", next_attempt_at=clock() + ahead)
    with app.app_context():
        if busy:
            with pytest.raises(MessageBusy):
                get_mail_service().retry_now(waiting)
        else:
            assert get_mail_service().retry_now(waiting).next_attempt_at == clock()


def test_discarding_erases_the_content_and_the_worker_never_sends_it(app, client, operator_id, clock):
    waiting = queue(app)
    sign_in_as(app, client, operator_id)
    done = act(client, waiting, "discard", "Adresse erronée, confirmée avec la personne")
    assert done.status_code == 303 and "The message was discarded." in client.get(done.headers["Location"]).text
    gone = message(app, waiting)
    assert gone.state == OutboxState.DISCARDED and gone.context_encrypted is None
    with app.app_context():
        assert deliver() == (0, 0)
    [event] = events(app, EventTag.CONSOLE_MAIL_DISCARDED)
    assert event.details["reason"] == "Adresse erronée, confirmée avec la personne" and event.details["was"] == "queued"
    assert f"Discard message {waiting}" not in client.get("/admin/mail").text


def test_discarding_a_dead_letter_asks_for_the_key_again(app, client, operator_id, clock):
    first, second = dead_letter(app, clock), dead_letter(app, clock)
    sign_in_as(app, client, operator_id)
    assert act(client, first, "discard").status_code == 303
    assert client.get(f"/admin/mail/{second}/discard").headers["Location"] == "/signin/second-factor"
    assert client.get(f"/admin/mail/{second}/retry").status_code == 200  # retrying destroys nothing


def test_a_message_whose_code_expired_is_not_sent_again(app, client, operator_id, clock):
    letter = dead_letter(app, clock)
    with app.app_context():
        db.session.get(OutboxMessage, letter).expires_at = clock() - timedelta(minutes=1)
        db.session.commit()
    sign_in_as(app, client, operator_id)
    refused = act(client, letter, "retry")
    assert refused.status_code == 422 and "has expired" in refused.text
    assert message(app, letter).state == OutboxState.FAILED


def test_unknown_messages_and_actions_are_404(app, client, operator_id, clock):
    letter = dead_letter(app, clock)
    sign_in_as(app, client, operator_id)
    assert client.get("/admin/mail/999999/retry").status_code == 404
    assert client.get("/admin/mail/nope/retry").status_code == 404
    assert client.get(f"/admin/mail/{letter}/resend").status_code == 404
    page = client.get(f"/admin/mail/{letter}/retry")
    assert client.post("/admin/mail/999999/retry", data={"csrf_token": csrf_token(page.text), "reason": "x"}).status_code == 404


def test_two_hosts_requeueing_at_once_queue_it_once(app, clock):
    """The conditional UPDATE: a host that read the dead letter before another requeued it
    (and a sender claimed it) does not requeue it over the sender's claim."""
    from sqlalchemy.orm import Session

    from idp.mail.errors import NotADeadLetter
    from idp.mail.services import MailService

    letter = dead_letter(app, clock)
    with app.app_context():
        ctx = app_context()
        with Session(db.engine, expire_on_commit=False) as other:
            late = MailService(other, ctx.settings, ctx.clock, ctx.secret_box)
            stale = other.get(OutboxMessage, letter)  # read before the others act
            assert stale.state == OutboxState.FAILED
            other.commit()
            get_mail_service().requeue(letter)
            assert get_mail_service().claim(letter) is not None
            db.session.commit()
            with pytest.raises(NotADeadLetter):
                late.requeue(letter)
            other.rollback()
        held = db.session.get(OutboxMessage, letter)
        db.session.refresh(held)
        assert held.attempts == 1 and held.next_attempt_at > clock()
