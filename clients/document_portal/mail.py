"""The document portal's own mail (portal_kit.mail, no Flask): a learner is told when a
school withdraws their document. Passerelle sends every other email (the invitation, "a
new document is available")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clients.document_portal.config import Settings
from clients.document_portal.documents.models import Document
from clients.portal_kit.mail import (
    RenderedEmail,
    SmtpMailer,
    SmtpSettings,
    locales_for,
    render_email,
)

EMAIL_FOLDER = "clients/document_portal/email"
SENDER_NAME = "Portail de documents / Document portal"


def N_(message: str) -> str:
    """Marks a string for extraction (Babel's default keywords); translated when rendered."""
    return message


# Here rather than in templates/.../_base/: Babel does not extract from "_" folders.
FOOTER = N_("This message was sent by the document portal. Help: %(url)s")


class Mailer(SmtpMailer):
    def __init__(self, settings: Settings, clock: Callable[[], datetime]):
        super().__init__(SmtpSettings(
            sender=settings.DOCUMENT_PORTAL_MAIL_FROM, host=settings.DOCUMENT_PORTAL_SMTP_HOST,
            port=settings.DOCUMENT_PORTAL_SMTP_PORT, security=settings.DOCUMENT_PORTAL_SMTP_SECURITY,
            username=settings.DOCUMENT_PORTAL_SMTP_USERNAME, password=settings.DOCUMENT_PORTAL_SMTP_PASSWORD,
            timeout=settings.DOCUMENT_PORTAL_SMTP_TIMEOUT,
        ), clock, SENDER_NAME)
        self.settings = settings


def withdrawal_email(document: Document, settings: Settings) -> RenderedEmail:
    """« Votre document a été retiré »: the school, the document, the school's reason and
    contact address, in the language the school issued it in."""
    base = settings.DOCUMENT_PORTAL_BASE_URL
    return render_email(EMAIL_FOLDER, FOOTER, "document-withdrawn", locales_for(document.learner_locale), {
        "given_name": document.learner_given_name, "family_name": document.learner_family_name,
        "title": {"fr": document.title_fr, "en": document.title_en},
        "school": {"fr": document.issuer_name_fr, "en": document.issuer_name_en},
        "reason": document.withdrawal_reason or "", "contact_email": document.contact_email,
        "portal_url": f"{base}/documents", "help_url": settings.DOCUMENT_PORTAL_HELP_URL or f"{base}/help",
    })


def tell_learner_of_withdrawal(document: Document, settings: Settings, clock: Callable[[], datetime]) -> bool:
    """Send the withdrawal email to the address the school issued the document to; False when
    the portal has no sender configured. Raises MailError when the relay fails."""
    if not settings.DOCUMENT_PORTAL_MAIL_FROM:
        return False
    mailer = Mailer(settings, clock)
    mailer.send(mailer.build(document.learner_email, withdrawal_email(document, settings)))
    return True
