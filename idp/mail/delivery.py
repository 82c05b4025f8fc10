"""Rendering queued mail and sending it, right after the response and on retries.

The Flask side of mail: templates render here, in the message's language, at send time.
A view only queues (MailService.enqueue) and commits. Sending never happens on a request
worker's critical path: with MAIL_SEND_AFTER_RESPONSE, once the response is closed the
worker only hands the ids to this process's sender thread (BackgroundSender) and goes back
to serving requests; otherwise a separate `idp mail send-pending --watch` process sends.
A slow, silent or absent SMTP server never delays or breaks a page, and a message that
failed waits in the outbox for the next attempt.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import Flask, Response, current_app, render_template
from flask_babel import force_locale

from idp.context import app_context
from idp.extensions import db
from idp.mail.errors import MailTransportError
from idp.mail.models import OutboxMessage, OutboxState
from idp.mail.services import QUEUED_IDS, MailService
from idp.mail.smtp import SmtpTransport
from idp.ops import metrics
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
    # MAIL_FROM's own display name, else the service's (issue 9 #14).
    email["From"] = Address(display_name=sender_name or settings.SERVICE_NAME, addr_spec=sender_address)
    email["To"] = message.to_address
    email["Subject"] = subject
    email["Date"] = format_datetime(app_context().clock())
    # Chosen when queued, so every retry is the same message (rows queued before it existed
    # get one at their first attempt).
    email["Message-ID"] = message.message_id or make_msgid(domain=sender_address.rpartition("@")[2] or None)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    email["Content-Language"] = message.locale  # after set_content, which clears Content-*
    return email


def deliver(message_ids: Iterable[int] | None = None, *, stop: Callable[[], bool] | None = None,
            limit: int = 100) -> tuple[int, int]:
    """Send the given queued messages, or up to `limit` due ones; returns (sent, failed).
    Commits after each message, so one failure never loses or resends another. `stop` is
    asked before each message (idp worker on SIGTERM): the one being sent is finished first.

    A message whose code expired is dropped, not sent (state "expired", counted in neither).
    A permanent SMTP refusal (5xx about the message) makes a dead letter at once; any other
    failure is retried with backoff, and the last of MAIL_MAX_ATTEMPTS makes a dead letter.
    When the relay itself fails (unreachable, silent past SMTP_TIMEOUT), the rest of the
    batch is left queued untouched: each would only wait out the same timeout.

    A message that cannot be built (its template fails to render, its context no longer
    decrypts) fails alone, like one the SMTP server refused: marked failed, logged, retried
    with the same backoff and given up after MAIL_MAX_ATTEMPTS, while the others are sent.
    """
    service = get_mail_service()
    transport = SmtpTransport(app_context().settings)
    ids = list(message_ids) if message_ids is not None else None
    sent = failed = 0
    for index in range(len(ids) if ids is not None else limit):
        if stop is not None and stop():
            break
        # Given ids (the sender thread): each if still due. Otherwise the next due message,
        # skipping those another sender holds (FOR UPDATE SKIP LOCKED on PostgreSQL).
        message = service.claim(ids[index]) if ids is not None else service.claim_next()
        db.session.commit()
        if message is None:
            if ids is None:
                break
            continue
        if service.is_expired(message):
            service.mark_expired(message)
            db.session.commit()
            metrics.count_mail("expired")
            log.info("mail %s (%s) dropped: its code expired before it could be sent", message.id, message.template)
            continue
        try:
            subject, text, html = render_email(message.template, message.locale, service.context_of(message))
            transport.send(build_message(message, subject, text, html))
        except MailTransportError as error:
            service.mark_failed(message, str(error), smtp_code=error.smtp_code, permanent=error.permanent)
            db.session.commit()
            failed += 1
            metrics.count_mail("dead_letter" if message.state == OutboxState.FAILED else "retry")
            if message.state == OutboxState.FAILED:
                log.error("mail %s (%s) is a dead letter: %s", message.id, message.template, error)
            else:
                log.warning("mail %s (%s) stays in the outbox for a retry: %s", message.id, message.template, error)
            if error.relay_down:
                break
            continue
        except Exception as error:  # a bug or bad data in this message: not a reason to stop the others
            # Whatever it left half done goes; the claim (committed above) counts the attempt.
            db.session.rollback()
            service.mark_failed(message, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
            failed += 1
            metrics.count_mail("unbuildable")
            log.exception("mail %s (%s) could not be built; it stays in the outbox", message.id, message.template)
        else:
            service.mark_sent(message)
            sent += 1
            metrics.count_mail("sent")
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


class BackgroundSender:
    """One daemon thread per process that sends what request workers hand it.

    The request worker only puts (app, ids, retry_due) on a queue, which never blocks, so
    an SMTP relay that stalls holds this thread (SMTP_TIMEOUT per attempt), never a worker.
    The outbox is the state: a job dropped because the queue is full, or lost when the
    process exits, is still queued in the database and sent by the next retry pass.
    """

    MAX_JOBS = 1000

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Flask, list[int], bool]] = queue.Queue(self.MAX_JOBS)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, app: Flask, queued: list[int], retry_due: bool) -> None:
        self._ensure_thread()
        try:
            self._jobs.put_nowait((app, queued, retry_due))
        except queue.Full:
            log.warning("mail sender busy: %d message(s) wait in the outbox for the next retry", len(queued))

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Whether every job handed over so far is done within timeout seconds (tests)."""
        deadline = time.monotonic() + timeout
        with self._jobs.all_tasks_done:
            while self._jobs.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._jobs.all_tasks_done.wait(remaining)
        return True

    def _ensure_thread(self) -> None:
        # A forked worker inherits the object but not the thread: start one per process.
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            if self._pid != os.getpid():
                self._jobs = queue.Queue(self.MAX_JOBS)
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="passerelle-mail", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            app, queued, retry_due = self._jobs.get()
            try:
                _send(app, queued, retry_due)
            finally:
                self._jobs.task_done()


sender = BackgroundSender()


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
            response.call_on_close(lambda: sender.submit(app_object, list(queued or []), retry_due))
        return response


def _send(app: Flask, queued: list[int], retry_due: bool) -> None:
    """Runs on the sender thread: any failure is logged and left for a retry."""
    with app.app_context():
        try:
            if queued:
                deliver(queued)
            if retry_due:
                deliver()
        except Exception:  # never let mail kill the sender; the outbox keeps the message
            log.exception("sending queued mail failed; it stays in the outbox")
            db.session.rollback()
        finally:
            db.session.remove()
