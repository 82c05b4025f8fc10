"""The institution portal's settings (PORTAL_* keys), loaded and validated at start.

Load order (portal_kit.config): DEFAULTS, then the TOML file named by the PORTAL_CONFIG
environment variable (if any), then every PORTAL_* environment variable, then the overrides
given to create_app (tests). Services receive the frozen Settings, never app.config.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, fields
from typing import Any

from clients.portal_kit.config import ConfigError, check_core, check_mail, number
from clients.portal_kit.config import load as load_values

__all__ = ["DEFAULTS", "ConfigError", "Settings", "load", "validate"]

DEFAULTS: dict[str, Any] = {
    # "development" or "production". Outside development the session cookie is Secure and
    # every URL must be https (loopback excepted).
    "PORTAL_ENV": "production",
    # Passerelle's issuer, exactly as its discovery document says (no trailing slash).
    "PORTAL_ISSUER": None,
    # This portal's client registration at Passerelle (`idp clients create`, or `idp demo`).
    "PORTAL_CLIENT_ID": None,
    "PORTAL_CLIENT_SECRET": None,
    # Where people reach this portal: the redirect URI is {PORTAL_BASE_URL}/callback and the
    # post-logout redirect URI {PORTAL_BASE_URL}/signed-out; register both at Passerelle.
    "PORTAL_BASE_URL": None,
    # Signs this portal's session cookie: at least 32 random characters, never shared.
    "PORTAL_SECRET_KEY": None,
    # The portal's own database (SQLite for one host, PostgreSQL in production).
    "PORTAL_DATABASE_URL": None,
    # The assurance level the portal requires (docs/oidc.md, Requiring two-factor): asked for
    # with acr_values, and checked in every ID token, with "mfa" in its amr.
    "PORTAL_REQUIRED_ACR": "urn:passerelle:acr:mfa",
    # The version of the portal's terms of use: people accept each version once.
    "PORTAL_TERMS_VERSION": "2026-12",
    # A portal session ends this many seconds after sign-in.
    "PORTAL_SESSION_MAX_AGE": 8 * 3600,
    # Cookie names of its own: on one host, cookies ignore ports, so a name shared with
    # Passerelle (passerelle_session) or the demo RP (demo_rp_session) would mix sessions.
    "PORTAL_SESSION_COOKIE_NAME": "institution_portal_session",
    # How many reverse proxies in front of the portal set X-Forwarded-For (0: none). Behind
    # them, the client's address that per-address limits count comes from that header.
    "PORTAL_PROXY_FIX_X_FOR": 0,
    # Where the help link of every page leads; the portal's own help page by default.
    "PORTAL_HELP_URL": None,
    # The institutions' mailbox (seed 002, « la boîte aux lettres des EED ») that the help
    # page names for technical difficulties, and the answer it promises, in business days.
    # Empty: the help page names no mailbox.
    "PORTAL_SUPPORT_EMAIL": None,
    "PORTAL_SUPPORT_RESPONSE_DAYS": 10,
    # The portal's own mail (clients/institution_portal/mail): the sender's address, required
    # to send (e.g. "Portail pour les EED <no-reply@eed.example.ca>"), and its SMTP relay.
    "PORTAL_MAIL_FROM": None,
    "PORTAL_SMTP_HOST": "127.0.0.1",
    "PORTAL_SMTP_PORT": 25,
    # "starttls", "tls" (implicit, port 465) or "none" (a loopback relay only, outside development).
    "PORTAL_SMTP_SECURITY": "starttls",
    # Optional login at the relay.
    "PORTAL_SMTP_USERNAME": "",
    "PORTAL_SMTP_PASSWORD": "",
    # Seconds each SMTP step may take (connection, greeting, each command and reply).
    "PORTAL_SMTP_TIMEOUT": 10,
    # Reporting periods (clients/institution_portal/periods): the months they open in (seed
    # 002: April and November), the day of the month they open, and how many days after
    # opening the report is due (that day included).
    "PORTAL_PERIOD_MONTHS": (4, 11),
    "PORTAL_PERIOD_OPENING_DAY": 1,
    "PORTAL_PERIOD_DAYS": 60,
    # Reminders to the primary contact, this many days before the deadline.
    "PORTAL_REMINDER_DAYS": (30, 7, 1),
    # Provinces whose institutions report elsewhere and get no period (seed 002: Quebec).
    "PORTAL_EXEMPT_PROVINCES": ("QC",),
    # Compliance reports (clients/institution_portal/reports): a submitted report can be
    # corrected for this many days after its first submission; a CSV upload may hold at
    # most this many bytes and students (larger files are refused with a size message).
    "PORTAL_REPORT_CORRECTION_DAYS": 10,
    "PORTAL_REPORT_MAX_BYTES": 2 * 1024 * 1024,
    "PORTAL_REPORT_MAX_ROWS": 5000,
}

PREFIX = "PORTAL_"
REQUIRED = ("PORTAL_ISSUER", "PORTAL_CLIENT_ID", "PORTAL_CLIENT_SECRET", "PORTAL_BASE_URL", "PORTAL_SECRET_KEY",
            "PORTAL_DATABASE_URL")
# Besides Passerelle's and the demo relying party's (portal_kit.config): the other portal's.
OTHER_PORTAL_COOKIES = ("document_portal_session",)


@dataclass(frozen=True)
class Settings:
    """The validated settings, as services see them."""

    PORTAL_ENV: str
    PORTAL_ISSUER: str
    PORTAL_CLIENT_ID: str
    PORTAL_CLIENT_SECRET: str
    PORTAL_BASE_URL: str
    PORTAL_SECRET_KEY: str
    PORTAL_DATABASE_URL: str
    PORTAL_REQUIRED_ACR: str
    PORTAL_TERMS_VERSION: str
    PORTAL_SESSION_MAX_AGE: int
    PORTAL_SESSION_COOKIE_NAME: str
    PORTAL_PROXY_FIX_X_FOR: int
    PORTAL_HELP_URL: str | None
    PORTAL_SUPPORT_EMAIL: str | None
    PORTAL_SUPPORT_RESPONSE_DAYS: int
    PORTAL_MAIL_FROM: str | None
    PORTAL_SMTP_HOST: str
    PORTAL_SMTP_PORT: int
    PORTAL_SMTP_SECURITY: str
    PORTAL_SMTP_USERNAME: str
    PORTAL_SMTP_PASSWORD: str
    PORTAL_SMTP_TIMEOUT: float
    PORTAL_PERIOD_MONTHS: tuple[int, ...]
    PORTAL_PERIOD_OPENING_DAY: int
    PORTAL_PERIOD_DAYS: int
    PORTAL_REMINDER_DAYS: tuple[int, ...]
    PORTAL_EXEMPT_PROVINCES: tuple[str, ...]
    PORTAL_REPORT_CORRECTION_DAYS: int
    PORTAL_REPORT_MAX_BYTES: int
    PORTAL_REPORT_MAX_ROWS: int

    @property
    def is_development(self) -> bool:
        return self.PORTAL_ENV == "development"

    @property
    def redirect_uri(self) -> str:
        return f"{self.PORTAL_BASE_URL}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.PORTAL_BASE_URL}/signed-out"


def load(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Every setting from the four sources, later ones winning (portal_kit.config.load)."""
    return load_values(DEFAULTS, PREFIX, overrides, environ)


def validate(values: dict[str, Any]) -> Settings:
    """Refuse to start on a missing secret, an unknown environment, an http:// address that
    is not loopback outside development, a short secret key or a borrowed cookie name."""
    check_core(values, PREFIX, REQUIRED, OTHER_PORTAL_COOKIES)
    if not str(values["PORTAL_REQUIRED_ACR"]).strip():
        raise ConfigError("PORTAL_REQUIRED_ACR must name an assurance level")
    check_mail(values, PREFIX)
    validate_periods(values)
    values["PORTAL_REPORT_CORRECTION_DAYS"] = number(values, "PORTAL_REPORT_CORRECTION_DAYS", 0, 366)
    values["PORTAL_REPORT_MAX_BYTES"] = number(values, "PORTAL_REPORT_MAX_BYTES", 1024, 100 * 1024 * 1024)
    values["PORTAL_REPORT_MAX_ROWS"] = number(values, "PORTAL_REPORT_MAX_ROWS", 1, 1_000_000)
    values["PORTAL_SUPPORT_RESPONSE_DAYS"] = number(values, "PORTAL_SUPPORT_RESPONSE_DAYS", 1, 60)
    support = values.get("PORTAL_SUPPORT_EMAIL")
    if support and not re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", str(support)):
        raise ConfigError("PORTAL_SUPPORT_EMAIL must be a plain email address")
    return Settings(**{field.name: values[field.name] for field in fields(Settings)})


def validate_periods(values: dict[str, Any]) -> None:
    """The reporting calendar: months 1-12 once each, an opening day that every month has,
    a deadline that comes before the next period opens, reminders inside the period."""
    months = _numbers(values, "PORTAL_PERIOD_MONTHS", 1, 12)
    if not months or len(set(months)) != len(months):
        raise ConfigError("PORTAL_PERIOD_MONTHS must name each month once (1-12), e.g. 4,11")
    values["PORTAL_PERIOD_MONTHS"] = tuple(sorted(months))
    values["PORTAL_PERIOD_OPENING_DAY"] = number(values, "PORTAL_PERIOD_OPENING_DAY", 1, 28)
    values["PORTAL_PERIOD_DAYS"] = days = number(values, "PORTAL_PERIOD_DAYS", 1, 366)
    # The shortest gap between two openings, in days (28-day February counted short): a
    # report must be due before the next period opens.
    ordered = values["PORTAL_PERIOD_MONTHS"]
    gaps = [((later - earlier) % 12 or 12) for earlier, later in zip(ordered, ordered[1:] + ordered[:1], strict=True)]
    if days >= min(gaps) * 28:
        raise ConfigError("PORTAL_PERIOD_DAYS must end each period before the next one opens")
    reminders = _numbers(values, "PORTAL_REMINDER_DAYS", 1, days - 1) if days > 1 else ()
    if len(set(reminders)) != len(reminders):
        raise ConfigError("PORTAL_REMINDER_DAYS must name each day once")
    values["PORTAL_REMINDER_DAYS"] = tuple(sorted(reminders, reverse=True))
    provinces = _words(values["PORTAL_EXEMPT_PROVINCES"])
    if any(len(code) != 2 or not code.isalpha() for code in provinces):
        raise ConfigError("PORTAL_EXEMPT_PROVINCES must be two-letter province codes, e.g. QC")
    values["PORTAL_EXEMPT_PROVINCES"] = tuple(code.upper() for code in provinces)


def _words(value: Any) -> list[str]:
    """A list from TOML, or a comma-separated string from the environment."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value]


def _numbers(values: dict[str, Any], name: str, low: int, high: int) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in _words(values[name]))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be whole numbers separated by commas") from error
    if any(not low <= number <= high for number in numbers):
        raise ConfigError(f"{name} must be between {low} and {high}")
    return numbers
