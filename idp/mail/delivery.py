"""Rendering queued mail and sending it, right after the response and on retries.

The Flask side of mail: templates render here, in the message's language, at send time.
A view only queues (MailService.enqueue) and commits; init_app() sends what the request
queued once the response is on its way, so a slow or absent SMTP server never delays or
breaks a page, and a failed message waits in the outbox for the next attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import Flask, Response, current_app, render_template
from flask_babel import force_locale

from idp.context import app_context
from idp.extensions import db
from idp.mail.errors import MailTransportError
from idp.mail.models import OutboxMessage
from idp.mail.services import QUEUED_IDS, MailService
from idp.mail.smtp import SmtpTransport
from idp.web.text import EMAIL_TEXT

log = logging.getLogger(__name__)


def get_mail_service() -> MailService:
    ctx = app_context()
    return MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)


def render_email(template: str, locale: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of templates/email/<template>/ in this language."""
    settings = app_context().settings
    common = {
        "issuer": settings.OIDC_ISSUER,
        "help_url": absolute_url(settings.HELP_URL),
        "locale": locale,
        "email_text": EMAIL_TEXT,
    }
    with force_locale(locale):
        subject = render_template(f"email/{template}/subject.txt", **common, **context)
        text = render_template(f"email/{template}/body.txt", **common, **context)
        html = render_template(f"email/{template}/body.html", **common, **context)
    return " ".join(subject.split()), text, html


def absolute_url(path_or_url: str) -> str:
    """A configured link (HELP_URL) as an absolute URL for mail, which has no base."""
    if "://" in path_or_url:
        return path_or_url
    return app_context().settings.OIDC_ISSUER + path_or_url


def build_message(message: OutboxMessage, subject: str, text: str, html: str) -> EmailMessage:
    settings = app_context().settings
    sender_name, sender_address = parseaddr(settings.MAIL_FROM)
    email = EmailMessage()
    email["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    email["To"] = message.to_address
    email["Subject"] = subject
    email["Date"] = format_datetime(app_context().clock())
    email["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    email["Content-Language"] = message.locale  # after set_content, which clears Content-*
    return email


def deliver(message_ids: Iterable[int] | None = None) -> tuple[int, int]:
    """Send the given queued messages, or every due one; returns (sent, failed). Commits
    after each message, so one failure never loses or resends another.

    A message that cannot be built (its template fails to render, its context no longer
    decrypts) fails alone, like one the SMTP server refused: marked failed, logged, retried
    with the same backoff and given up after MAIL_MAX_ATTEMPTS, while the others are sent.
    """
    service = get_mail_service()
    transport = SmtpTransport(app_context().settings)
    ids = list(message_ids) if message_ids is not None else service.due_ids()
    sent = failed = 0
    for message_id in ids:
        message = service.claim(message_id)
        db.session.commit()
        if message is None:
            continue
        try:
            subject, text, html = render_email(message.template, message.locale, service.context_of(message))
            transport.send(build_message(message, subject, text, html))
        except MailTransportError as error:
            service.mark_failed(message, str(error))
            failed += 1
            log.warning("mail %s to the outbox for a retry: %s", message.id, error)
        except Exception as error:  # a bug or bad data in this message: not a reason to stop the others
            # Whatever it left half done goes; the claim (committed above) counts the attempt.
            db.session.rollback()
            service.mark_failed(message, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
            failed += 1
            log.exception("mail %s (%s) could not be built; it stays in the outbox", message.id, message.template)
        else:
            service.mark_sent(message)
            sent += 1
        db.session.commit()
    return sent, failed


class _RetryTimer:
    """When this worker last looked for due mail. Only a schedule: the outbox itself is the
    state, and any worker or `idp mail send-pending` may send a due message."""

    def __init__(self) -> None:
        self.last = 0.0

    def is_due(self, interval: float) -> bool:
        now = time.monotonic()
        if now - self.last < interval:
            return False
        self.last = now
        return True


def init_app(app: Flask) -> None:
    timer = _RetryTimer()

    @app.after_request
    def send_after_response(response: Response) -> Response:
        # A request that never opened a database session queued nothing: do not open one
        # just to look (discovery and JWKS answer without the database).
        queued = db.session.info.pop(QUEUED_IDS, None) if db.session.registry.has() else None
        settings = app_context().settings
        if not settings.MAIL_SEND_AFTER_RESPONSE:
            return response
        retry_due = timer.is_due(settings.MAIL_RETRY_DELAY)
        if queued or retry_due:
            app_object = current_app._get_current_object()  # type: ignore[attr-defined]
            response.call_on_close(lambda: _send_in_background(app_object, queued or [], retry_due))
        return response


def _send_in_background(app: Flask, queued: list[int], retry_due: bool) -> None:
    """Runs after the response is sent: any failure is logged and left for a retry."""
    with app.app_context():
        try:
            if queued:
                deliver(queued)
            if retry_due:
                deliver()
        except Exception:  # never let mail break a worker; the outbox keeps the message
            log.exception("sending queued mail failed; it stays in the outbox")
            db.session.rollback()
        finally:
            db.session.remove()
