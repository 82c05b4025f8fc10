"""Mail failures."""

from __future__ import annotations


class MailError(Exception):
    """Base class of mail failures."""


class MailTransportError(MailError):
    """The SMTP server refused the message or could not be reached.

    permanent: the server refused this message for good (a 5xx reply to MAIL FROM, RCPT TO
    or DATA): retrying cannot help, so it becomes a dead letter. Otherwise it stays queued.
    relay_down: the relay itself failed (unreachable, silent, refused the greeting, EHLO,
    STARTTLS or login), so the other messages of the batch would fail the same way.
    smtp_code: the server's reply code, when it gave one. The message (str) is short and
    names no full address: it goes to logs and to mail_outbox.last_error.
    """

    def __init__(self, reason: str, *, smtp_code: int | None = None, permanent: bool = False, relay_down: bool = False):
        super().__init__(reason)
        self.smtp_code = smtp_code
        self.permanent = permanent
        self.relay_down = relay_down


class NotADeadLetter(MailError):
    """No message with this id is a dead letter (unknown, queued, sent or expired)."""


class UnknownMessage(MailError):
    """No message in the outbox has this id."""


class MessageBusy(MailError):
    """A sender may be sending this message right now (its claim's lease may be running):
    acting on it now could send it twice, or lose the act. Try again after the lease."""


class MessageNotWaiting(MailError):
    """The message is not waiting to be sent: already sent, dropped, discarded, or (for a
    retry) already due now."""


class MessageExpired(MailError):
    """The code or link the message carries has expired: sending it again would only drop it."""
