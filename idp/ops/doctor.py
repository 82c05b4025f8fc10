"""`idp doctor`: a deployment's settings and reachability, checked in one go and said in
plain words (issue 15). No Flask here: the command passes in what each check reads.

Each check answers a Finding; none raises, so one broken dependency never hides another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from idp.config import Settings, is_loopback
from idp.mail.errors import MailTransportError
from idp.mail.smtp import SmtpTransport
from idp.oidc.models import SigningKey
from idp.ops import services

# Beyond this, codes, tokens and assertions start expiring early or late across hosts.
MAX_CLOCK_SKEW_SECONDS = 2.0


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def check_issuer(settings: Settings) -> Finding:
    parts = urlsplit(settings.OIDC_ISSUER)
    if parts.scheme == "https":
        return Finding("issuer", True, f"{settings.OIDC_ISSUER} (https)")
    if settings.ENV == "production" and not is_loopback(parts.hostname):
        return Finding("issuer", False, f"{settings.OIDC_ISSUER} is not https: browsers would send passwords in clear")
    return Finding("issuer", settings.ENV != "production",
                   f"{settings.OIDC_ISSUER} is plain http, fit only for {settings.ENV} on this machine")


def check_database(engine: Engine) -> Finding:
    reachable, migrations = services.check_database(engine)
    if reachable != "ok":
        return Finding("database", False, f"cannot connect to {engine.url.render_as_string(hide_password=True)}")
    if migrations != "ok":
        return Finding("database", False, f"reachable but {migrations}: run `idp db upgrade`")
    return Finding("database", True, f"{engine.dialect.name}, reachable, migrations at head")


def check_signing_keys(engine: Engine) -> Finding:
    try:
        with engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(SigningKey))
    except SQLAlchemyError:
        return Finding("signing keys", False, "cannot be read (see the database check)")
    if not count:
        return Finding("signing keys", True, "none yet: the first request creates them (or run `idp keys rotate`)")
    return Finding("signing keys", True, f"{count} in the database")


def check_clock(engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Finding:
    """This host's clock against the database server's: several hosts agree on expiries only
    if they agree on the time. SQLite runs on this host, so there is nothing to compare."""
    if engine.dialect.name == "sqlite":
        return Finding("clock", True, "SQLite shares this host's clock")
    try:
        with engine.connect() as connection:
            before = now()
            database_now = connection.scalar(text("SELECT CURRENT_TIMESTAMP"))
            after = now()
    except SQLAlchemyError:
        return Finding("clock", False, "cannot be compared (see the database check)")
    local = before + (after - before) / 2
    skew = abs((database_now - local).total_seconds())
    if skew > MAX_CLOCK_SKEW_SECONDS:
        return Finding("clock", False, f"this host and the database differ by {skew:.1f} s: run NTP on both")
    return Finding("clock", True, f"within {skew:.2f} s of the database's")


def check_redis(uri: str, storage: Any | None) -> Finding:
    if storage is None:
        if uri.startswith("memory"):
            return Finding("rate limits", True, "kept in this process (one host only)")
        return Finding("rate limits", True, f"stored at {urlsplit(uri).scheme}://")
    state = services.check_redis(storage)
    host = urlsplit(uri).hostname
    return Finding("redis", state == "ok", f"{host} answers" if state == "ok" else f"{host} does not answer")


def check_smtp(settings: Settings, mail_to: str | None) -> Finding:
    where = f"{settings.SMTP_HOST}:{settings.SMTP_PORT} ({settings.SMTP_SECURITY})"
    transport = SmtpTransport(settings)
    try:
        if mail_to is None:
            transport.check()
            return Finding("smtp", True, f"{where} accepts a connection; add --mail-to to send a test message")
        message = EmailMessage()
        message["From"] = settings.MAIL_FROM
        message["To"] = mail_to
        message["Subject"] = "Passerelle: test message from idp doctor"
        message.set_content("This message proves that Passerelle can send mail. Nothing else to do.\n")
        transport.send(message)
    except MailTransportError as error:
        return Finding("smtp", False, f"{where}: {error}")
    return Finding("smtp", True, f"{where} took a test message for {mail_to}")


def report(findings: list[Finding]) -> list[str]:
    return [f"{'ok' if finding.ok else 'FAIL':4}  {finding.check}: {finding.detail}" for finding in findings]
