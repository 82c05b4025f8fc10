"""Sending one message over SMTP with the configured transport security. No Flask here.

Every step has a deadline: SMTP_TIMEOUT seconds bound the connection, the greeting, EHLO,
STARTTLS and its handshake, AUTH, and each command and reply of the message (MAIL FROM,
RCPT TO, DATA), because the socket's timeout applies to every read and write of it. A relay
that accepts the connection and never answers costs one SMTP_TIMEOUT, then the message
waits in the outbox for its retry.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from idp.config import Settings
from idp.mail.errors import MailTransportError
from idp.mail.services import mask_addresses

# RFC 5321 §4.2.1: 5yz is a permanent negative reply; 4yz a transient one.
PERMANENT = 500


class SmtpTransport:
    """SMTP_HOST:SMTP_PORT with SMTP_SECURITY "none", "starttls" or "tls", optional login."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the server. Raises MailTransportError on any failure: permanent
        for a 5xx reply about this message, relay_down when the relay itself failed."""
        connection = self._open()
        try:
            connection.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise _transport_error(error, about_message=True) from error
        finally:
            _close(connection)

    def check(self) -> None:
        """Connect, greet, encrypt and log in as configured, then leave: what `idp doctor`
        asks of the relay. Raises MailTransportError."""
        _close(self._open())

    def _open(self) -> smtplib.SMTP:
        """A connection ready for a message: greeted, encrypted as configured, logged in."""
        settings = self.settings
        timeout = float(settings.SMTP_TIMEOUT)
        connection = None
        try:
            if settings.SMTP_SECURITY == "tls":
                connection = smtplib.SMTP_SSL(
                    settings.SMTP_HOST, settings.SMTP_PORT, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                connection = smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=timeout)
            if settings.SMTP_SECURITY == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if settings.SMTP_USERNAME:
                connection.login(settings.SMTP_USERNAME, settings.SMTP_PASSWORD or "")
        except (OSError, smtplib.SMTPException) as error:
            if connection is not None:
                connection.close()
            # Nothing about this message yet: the relay (or our settings for it) failed.
            raise _transport_error(error, about_message=False) from error
        return connection


def _close(connection: smtplib.SMTP) -> None:
    """QUIT, but a relay that took the message and then stalls or drops the line has still
    taken it: only the socket's timeout bounds the wait, and no failure here counts."""
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        connection.close()


def _transport_error(error: Exception, *, about_message: bool) -> MailTransportError:
    """What went wrong, in a short line with no full address, and whether retrying can help.

    A 5xx before the message (greeting, EHLO, STARTTLS, AUTH) is the relay's or our
    configuration's problem, not this message's: it is retried like an outage, so fixing
    the settings sends everything that waited, with no dead letters to requeue.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        code = max(codes) if codes else None
        replies = "; ".join(_reply_text(reply) for _, reply in error.recipients.values())
        return MailTransportError(
            f"{code} recipient refused: {replies}"[:255], smtp_code=code,
            permanent=bool(codes) and min(codes) >= PERMANENT,
        )
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code if isinstance(error.smtp_code, int) and error.smtp_code > 0 else None
        reason = f"{code} {type(error).__name__}: {_reply_text(error.smtp_error)}"
        permanent = about_message and code is not None and code >= PERMANENT
        return MailTransportError(reason[:255], smtp_code=code, permanent=permanent, relay_down=not about_message)
    reason = f"{type(error).__name__}: {mask_addresses(str(error))}" if str(error) else type(error).__name__
    return MailTransportError(reason[:255], relay_down=True)


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return mask_addresses(" ".join(text.split()))[:120]
