"""Sending one message over SMTP with the portal's settings (PORTAL_SMTP_*). No Flask.

Every step has a deadline: PORTAL_SMTP_TIMEOUT seconds bound the connection, the greeting,
STARTTLS, the login and each command of the message, as the socket's timeout applies to
every read and write. Failures raise MailNotSent; the caller decides whether to retry.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from clients.institution_portal.config import Settings
from clients.institution_portal.mail.errors import MailNotConfigured, MailNotSent
from clients.institution_portal.mail.render import RenderedEmail

# RFC 5321 §4.2.1: a 5yz reply is permanent.
PERMANENT = 500
SENDER_NAME = "Portail pour les EED / DLI Portal"


class Mailer:
    """Builds messages from rendered templates and hands them to the relay."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]):
        self.settings = settings
        self.clock = clock

    def build(self, to: str, rendered: RenderedEmail) -> EmailMessage:
        """The message, text and HTML; raises MailNotConfigured without PORTAL_MAIL_FROM."""
        if not self.settings.PORTAL_MAIL_FROM:
            raise MailNotConfigured("PORTAL_MAIL_FROM is not set")
        name, address = parseaddr(self.settings.PORTAL_MAIL_FROM)
        message = EmailMessage()
        message["From"] = Address(display_name=name or SENDER_NAME, addr_spec=address)
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        message["Content-Language"] = ", ".join(rendered.locales)  # after set_content, which clears it
        return message

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the relay; raises MailNotSent."""
        settings = self.settings
        connection = None
        try:
            if settings.PORTAL_SMTP_SECURITY == "tls":
                connection = smtplib.SMTP_SSL(settings.PORTAL_SMTP_HOST, settings.PORTAL_SMTP_PORT,
                                              timeout=settings.PORTAL_SMTP_TIMEOUT, context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(settings.PORTAL_SMTP_HOST, settings.PORTAL_SMTP_PORT,
                                          timeout=settings.PORTAL_SMTP_TIMEOUT)
            if settings.PORTAL_SMTP_SECURITY == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if settings.PORTAL_SMTP_USERNAME:
                connection.login(settings.PORTAL_SMTP_USERNAME, settings.PORTAL_SMTP_PASSWORD)
            connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailNotSent(f"recipient refused ({', '.join(map(str, codes))})",
                              permanent=bool(codes) and min(codes) >= PERMANENT) from error
        except smtplib.SMTPResponseException as error:
            raise MailNotSent(f"{error.smtp_code} {type(error).__name__}",
                              permanent=isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= PERMANENT) from error
        except (OSError, smtplib.SMTPException) as error:
            raise MailNotSent(type(error).__name__) from error
        finally:
            if connection is not None:
                _quit(connection)


def _quit(connection: smtplib.SMTP) -> None:
    """QUIT; a relay that took the message and then drops the line has still taken it."""
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        connection.close()
