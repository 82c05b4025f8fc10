"""Why the portal could not send a message (mail/smtp.py)."""

from __future__ import annotations


class MailError(Exception):
    """A message the portal meant to send was not handed to the relay."""


class MailNotConfigured(MailError):
    """PORTAL_MAIL_FROM is not set: the portal has no address to send from."""


class MailNotSent(MailError):
    """The relay could not be reached or refused the message. permanent: a 5xx about this
    message (retrying the same message will not help); otherwise a later try may work."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
