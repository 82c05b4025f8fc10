"""Mail over real SMTP: sent after the response, kept and retried when the server is down."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Blueprint
from jinja2 import ChoiceLoader, FileSystemLoader

from idp.cli import main as cli
from idp.extensions import db
from idp.mail.delivery import deliver, get_mail_service
from idp.mail.devbox import Mailbox, SmtpServer
from idp.mail.models import OutboxMessage
from tests.mail_support import code_in, html_body, links_in, text_body
from tests.support import free_port

FIXTURE_TEMPLATES = Path(__file__).resolve().parents[2] / "fixtures" / "templates"


@pytest.fixture
def app(app):
    """The app plus a test-only view that queues a message the way a feature's view does."""
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(FIXTURE_TEMPLATES)])
    bp = Blueprint("mail_test", __name__)

    @bp.post("/test/queue/<locale>")
    def queue(locale):
        get_mail_service().enqueue(
            to="Ana@Example.ca", template="hello", locale=locale,
            context={"name": "Ana", "code": "654321", "link": "http://127.0.0.1:5000/activate?t=abc"},
        )
        db.session.commit()
        return "queued"

    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


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
