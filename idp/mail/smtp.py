"""Sending one message over SMTP with the configured transport security. No Flask here."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from idp.config import Settings
from idp.mail.errors import MailTransportError


class SmtpTransport:
    """SMTP_HOST:SMTP_PORT with SMTP_SECURITY "none", "starttls" or "tls", optional login."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the server. Raises MailTransportError on any failure."""
        settings = self.settings
        try:
            if settings.SMTP_SECURITY == "tls":
                connection = smtplib.SMTP_SSL(
                    settings.SMTP_HOST, settings.SMTP_PORT, timeout=settings.SMTP_TIMEOUT,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=settings.SMTP_TIMEOUT)
            with connection:
                if settings.SMTP_SECURITY == "starttls":
                    connection.starttls(context=ssl.create_default_context())
                if settings.SMTP_USERNAME:
                    connection.login(settings.SMTP_USERNAME, settings.SMTP_PASSWORD or "")
                connection.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailTransportError(f"{type(error).__name__}: {error}") from error
