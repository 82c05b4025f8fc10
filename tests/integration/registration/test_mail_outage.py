"""SMTP down during registration loses nothing: the person sees the normal page, the
activation email waits in the outbox, and a later delivery sends it (issue 3, Tests)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.invitations.services import InvitationService
from idp.mail.delivery import deliver
from idp.mail.devbox import Mailbox, SmtpServer
from idp.mail.models import OutboxMessage
from idp.context import app_context
from tests.integration.registration.support import EMAIL, csrf
from tests.mail_support import path_of_link
from tests.support import free_port

DOWN_PORT = free_port()


@pytest.mark.settings(SMTP_PORT=DOWN_PORT)
def test_activation_email_waits_for_the_smtp_server(app, client, clock):
    client.set_cookie("passerelle_lang", "en")
    with app.app_context():  # the invitation's own email is queued too; its link is read here
        ctx = app_context()
        _, token = InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            email=EMAIL, kind="link", inviter_name="École Imaginaire", created_by_kind="operator",
            created_by_id="ops", locale="en")
        db.session.commit()
    path = f"/register/invitation/{token}"
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf(page.text), "given_name": "Zoé",
                                       "family_name": "Citoyenne", "email": EMAIL})
    assert response.status_code == 303  # a normal page, no 500
    assert "Check your email" in client.get(response.headers["Location"]).text
    with app.app_context():
        queued = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "activation"))
        assert queued.sent_at is None and queued.attempts == 1 and queued.last_error

    server = SmtpServer(Mailbox(), DOWN_PORT).start()
    try:
        clock.advance(seconds=61)
        with app.app_context():
            sent, failed = deliver()
        assert failed == 0 and sent >= 1
        activation = next(message for message in server.mailbox.to(EMAIL)
                          if "/register/activate/" in message.get_body(preferencelist=("plain",)).get_content())
    finally:
        server.stop()
    activate = path_of_link(activation, "/register/activate/")
    assert client.get(activate).status_code == 200  # the link works once it arrives
