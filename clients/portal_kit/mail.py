"""A portal's own mail (no Flask): email bodies rendered from templates in one language or
in French and English together, and sent over SMTP with the portal's relay settings.

Templates: templates/<folder>/<name>/{subject.txt,body.txt,body.html}, each holding only its
message; templates/clients/portal_kit/email/_base/layout.{txt,html} put one section per language
around it (French first when both, each marked with its lang) with the portal's footer.

Every SMTP step has a deadline: the timeout bounds the connection, the greeting, STARTTLS,
the login and each command of the message, as the socket's timeout applies to every read and
write. Failures raise MailNotSent; the caller decides whether to retry.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = PROJECT_ROOT / "templates"
TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("fr", "en")
# Dates as people in Canada write them: « 31 décembre 2026 », "December 31, 2026".
BABEL_LOCALES = {"fr": "fr_CA", "en": "en_CA"}
# RFC 5321 §4.2.1: a 5yz reply is permanent.
PERMANENT = 500
SMTP_SECURITIES = ("starttls", "tls", "none")
# One layout for every portal: a section per language (French first when both), each with its footer.
LAYOUT_FOLDER = "clients/portal_kit/email/_base"


class MailError(Exception):
    """A message the portal meant to send was not handed to the relay."""


class MailNotConfigured(MailError):
    """The portal has no address to send from (its MAIL_FROM setting is not set)."""


class MailNotSent(MailError):
    """The relay could not be reached or refused the message. permanent: a 5xx about this
    message (retrying the same message will not help); otherwise a later try may work."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    locales: tuple[str, ...]


@dataclass(frozen=True)
class SmtpSettings:
    """A portal's relay, from its own *_MAIL_FROM and *_SMTP_* settings."""

    sender: str | None
    host: str
    port: int
    security: str
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10


def locales_for(locale: str | None) -> tuple[str, ...]:
    """The person's language when it is known, else French and English together."""
    return (locale,) if locale in LOCALES else LOCALES


def long_date(value: date, locale: str) -> str:
    return format_date(value, format="long", locale=BABEL_LOCALES[locale])


@lru_cache(maxsize=4)
def translations(locale: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [locale])


@lru_cache(maxsize=4)
def environment(locale: str) -> Environment:
    """A Jinja environment whose gettext is this language's catalog."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(locale), newstyle=True)
    env.filters["long_date"] = lambda value: long_date(value, locale)
    return env


def render_email(folder: str, footer: str, name: str, locales: tuple[str, ...], context: dict) -> RenderedEmail:
    """The message `name` of the portal's email folder in these languages (one, or fr then
    en). context is the same for every language; `locale` is added. footer is an English
    msgid with %(url)s (context["help_url"]). Raises jinja2's TemplateNotFound."""
    sections = []
    for locale in locales:
        env = environment(locale)
        values = {**context, "locale": locale}
        sections.append({
            "locale": locale,
            "subject": " ".join(env.get_template(f"{folder}/{name}/subject.txt").render(values).split()),
            "text": env.get_template(f"{folder}/{name}/body.txt").render(values).strip(),
            "html": env.get_template(f"{folder}/{name}/body.html").render(values),
            "footer": translations(locale).gettext(footer) % {"url": context["help_url"]},
        })
    layout = environment(locales[0])
    subject = " / ".join(section["subject"] for section in sections)
    text = layout.get_template(f"{LAYOUT_FOLDER}/layout.txt").render(sections=sections)
    html = layout.get_template(f"{LAYOUT_FOLDER}/layout.html").render(
        sections=sections, subject=subject, locale=locales[0])
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html, locales=tuple(locales))


class SmtpMailer:
    """Builds messages from rendered templates and hands them to the relay."""

    def __init__(self, smtp: SmtpSettings, clock: Callable[[], datetime], sender_name: str):
        self.smtp = smtp
        self.clock = clock
        self.sender_name = sender_name

    def build(self, to: str, rendered: RenderedEmail) -> EmailMessage:
        """The message, text and HTML; raises MailNotConfigured without a sender."""
        if not self.smtp.sender:
            raise MailNotConfigured("no sender address is set")
        name, address = parseaddr(self.smtp.sender)
        message = EmailMessage()
        message["From"] = Address(display_name=name or self.sender_name, addr_spec=address)
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
        smtp = self.smtp
        connection = None
        try:
            if smtp.security == "tls":
                connection = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            if smtp.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if smtp.username:
                connection.login(smtp.username, smtp.password)
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
