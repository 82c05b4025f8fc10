"""Sending one message over SMTP with the portal's settings (PORTAL_SMTP_*, PORTAL_MAIL_FROM),
through portal_kit.mail. No Flask. Failures raise MailNotSent; the caller decides whether to
retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clients.institution_portal.config import Settings
from clients.portal_kit.mail import SmtpMailer, SmtpSettings

SENDER_NAME = "Portail pour les EED / DLI Portal"


class Mailer(SmtpMailer):
    """Builds messages from rendered templates and hands them to the relay."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]):
        super().__init__(SmtpSettings(
            sender=settings.PORTAL_MAIL_FROM, host=settings.PORTAL_SMTP_HOST, port=settings.PORTAL_SMTP_PORT,
            security=settings.PORTAL_SMTP_SECURITY, username=settings.PORTAL_SMTP_USERNAME,
            password=settings.PORTAL_SMTP_PASSWORD, timeout=settings.PORTAL_SMTP_TIMEOUT,
        ), clock, SENDER_NAME)
        self.settings = settings
