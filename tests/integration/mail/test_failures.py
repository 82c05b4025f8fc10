"""When the relay misbehaves (issue 9, item 11): a silent relay never holds a request, every
SMTP step has a timeout, a 5xx makes a dead letter that operators see, a 4xx is retried with
the same Message-ID, and a code that could not be sent in time is dropped."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from idp.cli import main as cli
from idp.context import app_context
from idp.extensions import db
from idp.mail.delivery import deliver, get_mail_service, sender
from idp.mail.devbox import SmtpServer
from idp.mail.errors import MailTransportError
from idp.mail.models import OutboxMessage
from idp.mail.smtp import SmtpTransport
from tests.mail_support import ScriptedMailbox, SilentRelay
from tests.support import free_port

CONTEXT = {"name": "Ana", "code": "654321", "link": "http://127.0.0.1:5000/activate?t=abc"}
SILENT_PORT = free_port()
SCRIPTED_PORT = free_port()


def queue(app, to="ana@example.ca", **kwargs) -> int:
    with app.app_context():
        message = get_mail_service().enqueue(to=to, template="hello", locale="en", context=CONTEXT, **kwargs)
        db.session.commit()
        return message.id


def stored(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


@pytest.mark.settings(SMTP_PORT=SILENT_PORT, SMTP_TIMEOUT=2)
def test_a_relay_that_never_answers_does_not_hold_the_request(app, clock):
    relay = SilentRelay(SILENT_PORT).start()
    try:
        client = FlaskClient(app)  # a plain client: it does not wait for the sender thread
        started = time.monotonic()
        response = client.post("/test/queue/en", buffered=True)  # closed, as a server would
        answered_in = time.monotonic() - started
        assert response.status_code == 200
        assert answered_in < 1, f"the request waited {answered_in:.1f} s for SMTP"
        assert sender.wait_until_idle(timeout=10)  # the attempt gives up after SMTP_TIMEOUT
        given_up_in = time.monotonic() - started
    finally:
        relay.stop()
    assert 2 <= given_up_in < 6
    with app.app_context():
        message = db.session.query(OutboxMessage).one()
        assert message.state == "queued" and message.sent_at is None and message.attempts == 1
        assert "timed out" in message.last_error
        assert message.next_attempt_at == clock() + timedelta(seconds=60)  # queued for a retry


@pytest.mark.parametrize("stall_at", ["greeting", "ehlo", "data"])
@pytest.mark.settings(SMTP_PORT=SILENT_PORT, SMTP_TIMEOUT=0.5)
def test_every_smtp_step_has_a_timeout(app, stall_at):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@passerelle.invalid", "b@example.ca", "hi"
    message.set_content("hi")
    relay = SilentRelay(SILENT_PORT, stall_at=stall_at).start()
    try:
        with app.app_context():
            transport = SmtpTransport(app_context().settings)
        started = time.monotonic()
        with pytest.raises(MailTransportError) as raised:
            transport.send(message)
        assert time.monotonic() - started < 2
    finally:
        relay.stop()
    assert "timed out" in str(raised.value) and raised.value.relay_down and not raised.value.permanent


@pytest.mark.settings(SMTP_PORT=SILENT_PORT, SMTP_TIMEOUT=0.5)
def test_a_silent_relay_costs_one_timeout_per_batch_not_one_per_message(app):
    ids = [queue(app, to=f"p{n}@example.ca") for n in range(5)]
    relay = SilentRelay(SILENT_PORT).start()
    try:
        started = time.monotonic()
        with app.app_context():
            assert deliver() == (0, 1)
        assert time.monotonic() - started < 2
    finally:
        relay.stop()
    assert [stored(app, message_id).attempts for message_id in ids] == [1, 0, 0, 0, 0]


@pytest.mark.settings(SMTP_PORT=SCRIPTED_PORT)
def test_a_retry_keeps_the_message_id(app, clock):
    server = SmtpServer(ScriptedMailbox(data=["451 4.3.0 Try again later"]), SCRIPTED_PORT).start()
    try:
        message_id = queue(app)
        with app.app_context():
            assert deliver() == (0, 1)
        first = stored(app, message_id)
        assert first.state == "queued" and first.smtp_code == 451 and first.attempts == 1
        clock.advance(seconds=61)
        with app.app_context():
            assert deliver() == (1, 0)
        [refused] = server.mailbox.refused
        received = server.mailbox.wait_for("ana@example.ca")
    finally:
        server.stop()
    assert refused["Message-ID"] == received["Message-ID"] == first.message_id


@pytest.mark.settings(SMTP_PORT=SCRIPTED_PORT)
def test_a_permanent_refusal_is_a_dead_letter_that_operators_see(app, clock, caplog):
    refusal = "550 5.1.1 <ghost@example.ca>: Recipient address rejected: User unknown"
    server = SmtpServer(ScriptedMailbox(rcpt=[refusal]), SCRIPTED_PORT).start()
    try:
        ghost = queue(app, to="ghost@example.ca")
        ana = queue(app)
        with caplog.at_level(logging.WARNING), app.app_context():
            assert deliver() == (1, 1)  # the next message still goes
        failed_at = clock()
        clock.advance(hours=2)
        with app.app_context():
            assert get_mail_service().due_ids() == []  # never retried
    finally:
        server.stop()
    letter = stored(app, ghost)
    assert letter.state == "failed" and letter.smtp_code == 550 and letter.sent_at is None
    assert stored(app, ana).state == "sent"
    assert "g***@example.ca" in letter.last_error and "ghost@" not in letter.last_error
    assert "ghost@" not in caplog.text and "654321" not in caplog.text
    assert f"mail {ghost} (hello) is a dead letter" in caplog.text

    listed = CliRunner().invoke(cli, ["mail", "failed"], obj=app)
    assert listed.exit_code == 0, listed.output
    assert str(ghost) in listed.output and "hello" in listed.output and "550" in listed.output
    assert "g***@example.ca" in listed.output and "ghost@" not in listed.output
    as_json = CliRunner().invoke(cli, ["mail", "failed", "--json"], obj=app)
    [row] = json.loads(as_json.output)
    assert row["id"] == ghost and row["template"] == "hello" and row["to"] == "g***@example.ca"
    assert row["smtp_code"] == 550 and row["reason"].startswith("550 recipient refused")
    assert row["failed_at"] == failed_at.isoformat(timespec="seconds")  # when it failed, not two hours later


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_retry_command_queues_a_dead_letter_again(app, mailbox):
    message_id = queue(app)
    with app.app_context():
        service = get_mail_service()
        service.mark_failed(service.claim(message_id), "550 no such user", smtp_code=550, permanent=True)
        db.session.commit()
    result = CliRunner().invoke(cli, ["mail", "retry", str(message_id)], obj=app)
    assert result.exit_code == 0, result.output
    assert stored(app, message_id).state == "queued"
    assert "sent 1" in CliRunner().invoke(cli, ["mail", "send-pending"], obj=app).output
    assert mailbox.wait_for("ana@example.ca")
    again = CliRunner().invoke(cli, ["mail", "retry", str(message_id)], obj=app)
    assert again.exit_code != 0 and "not a dead letter" in again.output


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_a_code_that_expired_in_the_outbox_is_dropped_not_sent(app, clock, mailbox):
    code = queue(app, expires_at=clock() + timedelta(minutes=3))
    notice = queue(app, to="bob@example.ca")
    clock.advance(minutes=3)
    with app.app_context():
        assert deliver() == (1, 0)
    assert mailbox.wait_for("bob@example.ca") and mailbox.to("ana@example.ca") == []
    dropped = stored(app, code)
    assert dropped.state == "expired" and dropped.sent_at is None and dropped.context_encrypted is None
    assert stored(app, notice).state == "sent"
