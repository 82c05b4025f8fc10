"""Mail over real SMTP: sent after the response, kept and retried when the server is down."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from idp.cli import main as cli
from idp.extensions import db
from idp.mail.delivery import deliver, get_mail_service
from idp.mail.devbox import Mailbox, SmtpServer
from idp.mail.models import OutboxMessage
from tests.mail_support import code_in, html_body, links_in, text_body
from tests.support import free_port


def test_mail_queued_by_a_view_is_sent_after_the_response(client, mailbox, app):
    assert client.post("/test/queue/fr").status_code == 200
    message = mailbox.wait_for("ana@example.ca")
    assert message["Subject"] == "Bonjour Ana"
    assert message["Content-Language"] == "fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert code_in(message) == "654321"
    assert "http://127.0.0.1:5000/activate?t=abc" in links_in(message)
    assert "href=\"http://127.0.0.1:5000/activate?t=abc\"" in html_body(message)
    assert "http://127.0.0.1:5000/help" in text_body(message)  # the translated footer
    with app.app_context():
        stored = db.session.query(OutboxMessage).one()
        assert stored.sent_at is not None and stored.context_encrypted is None


def test_footer_speaks_the_message_language(client, mailbox):
    client.post("/test/queue/en")
    assert "replies are not read" in text_body(mailbox.wait_for("ana@example.ca"))


DOWN_PORT = free_port()


@pytest.mark.settings(SMTP_PORT=DOWN_PORT)
def test_smtp_down_keeps_the_message_and_a_retry_sends_it(client, app, clock):
    assert client.post("/test/queue/en").status_code == 200  # the person sees a normal page
    with app.app_context():
        stored = db.session.query(OutboxMessage).one()
        assert stored.sent_at is None and stored.attempts == 1
        assert "ConnectionRefusedError" in stored.last_error
        assert deliver() == (0, 0)  # not due yet: it waits before the retry
    server = SmtpServer(Mailbox(), DOWN_PORT).start()  # the SMTP server is back
    try:
        clock.advance(seconds=61)
        with app.app_context():
            assert deliver() == (1, 0)
        assert server.mailbox.wait_for("ana@example.ca")["Subject"] == "Hello Ana"
    finally:
        server.stop()


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_send_pending_command_sends_what_is_due(client, mailbox, app):
    client.post("/test/queue/en")
    assert mailbox.messages == []
    result = CliRunner().invoke(cli, ["mail", "send-pending"], obj=app)
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output
    assert mailbox.wait_for("ana@example.ca")
    result = CliRunner().invoke(cli, ["mail", "send-pending"], obj=app)
    assert "sent 0, failed 0" in result.output  # never sent twice


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False, MAIL_MAX_ATTEMPTS=2)
def test_a_message_that_cannot_be_built_fails_alone(app, mailbox, clock, caplog):
    """A template that fails to render or a context that no longer decrypts marks that one
    message failed, logged and retried like an SMTP refusal; the rest of the batch goes out."""
    with app.app_context():
        service = get_mail_service()
        context = {"name": "Ana", "code": "654321", "link": "http://127.0.0.1:5000/x"}
        first = service.enqueue(to="ana@example.ca", template="hello", locale="en", context=context)
        missing = service.enqueue(to="bob@example.ca", template="no-such-template", locale="en", context=context)
        garbled = service.enqueue(to="eve@example.ca", template="hello", locale="en", context=context)
        garbled.context_encrypted = b"not a Fernet token"
        last = service.enqueue(to="zoe@example.ca", template="hello", locale="fr", context=context)
        ids = [first.id, missing.id, garbled.id, last.id]
        db.session.commit()
        assert deliver(ids) == (2, 2)
    assert mailbox.wait_for("ana@example.ca") and mailbox.wait_for("zoe@example.ca")
    assert sorted(message["To"] for message in mailbox.messages) == ["ana@example.ca", "zoe@example.ca"]
    assert "mail %s (no-such-template) could not be built" % ids[1] in caplog.text
    assert "TemplateNotFound" in caplog.text and "DecryptionFailed" in caplog.text
    with app.app_context():
        unsent = db.session.query(OutboxMessage).filter(OutboxMessage.sent_at.is_(None))
        failed = {message.id: message for message in unsent}
        assert sorted(failed) == [ids[1], ids[2]]
        assert failed[ids[1]].last_error.startswith("TemplateNotFound: email/no-such-template/")
        assert failed[ids[2]].last_error == "DecryptionFailed"
        assert all(message.attempts == 1 and message.context_encrypted for message in failed.values())
        # Retried with the usual backoff, then given up after MAIL_MAX_ATTEMPTS.
        assert deliver() == (0, 0)
        clock.advance(seconds=61)
        assert deliver() == (0, 2)
        clock.advance(hours=1)
        assert get_mail_service().due_ids() == [] and deliver() == (0, 0)


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_send_pending_watch_keeps_sending_between_pauses(client, mailbox, app, monkeypatch):
    """The production sender (`--watch`): sends, pauses --interval seconds, sends again."""
    pauses = []

    def pause(worker, seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            worker.stop()  # what SIGTERM does
            return
        client.post("/test/queue/en?to=bob@example.ca")  # queued while the sender waits

    monkeypatch.setattr("idp.ops.worker.Worker.pause", pause)
    client.post("/test/queue/en")
    result = CliRunner().invoke(cli, ["mail", "send-pending", "--watch", "--interval", "0.5"], obj=app)
    assert pauses == [0.5, 0.5]
    assert mailbox.wait_for("ana@example.ca") and mailbox.wait_for("bob@example.ca")
    assert result.output.count("sent 1, failed 0") == 2
