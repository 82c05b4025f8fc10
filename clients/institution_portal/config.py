"""The institution portal's settings (PORTAL_* keys), loaded and validated at start.

Load order: DEFAULTS, then the TOML file named by the PORTAL_CONFIG environment variable (if
any), then every PORTAL_* environment variable, then the overrides given to create_app (tests).
Services receive the frozen Settings, never app.config.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

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
    # Where the help link of every page leads; the portal's own help page by default.
    "PORTAL_HELP_URL": None,
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

# Cookie names the portal must not use: Passerelle's and the demo relying party's.
RESERVED_COOKIE_NAMES = frozenset({"passerelle_session", "passerelle_lang", "demo_rp_session", "session"})
REQUIRED = ("PORTAL_ISSUER", "PORTAL_CLIENT_ID", "PORTAL_CLIENT_SECRET", "PORTAL_BASE_URL", "PORTAL_SECRET_KEY",
            "PORTAL_DATABASE_URL")
ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """The settings are missing something or contradict themselves: the portal does not start."""


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
    PORTAL_HELP_URL: str | None
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
    """Every setting from the four sources, later ones winning."""
    environ = os.environ if environ is None else environ
    values = dict(DEFAULTS)
    path = environ.get("PORTAL_CONFIG")
    if path:
        with open(path, "rb") as handle:
            values.update({key: value for key, value in tomllib.load(handle).items() if key.startswith("PORTAL_")})
    for name in DEFAULTS:
        if name in environ:
            values[name] = environ[name]
    values.update(overrides or {})
    return values


def validate(values: dict[str, Any]) -> Settings:
    """Refuse to start on a missing secret, an unknown environment, an http:// address that
    is not loopback outside development, a short secret key or a borrowed cookie name."""
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise ConfigError(f"missing settings: {', '.join(missing)}")
    if values["PORTAL_ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}")
    if len(str(values["PORTAL_SECRET_KEY"])) < 32:
        raise ConfigError("PORTAL_SECRET_KEY must hold at least 32 random characters")
    for name in ("PORTAL_ISSUER", "PORTAL_BASE_URL"):
        values[name] = str(values[name]).rstrip("/")
        parts = urlsplit(values[name])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{name} must be an http(s) URL")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(f"{name} must use https (http is only for loopback)")
    if values["PORTAL_SESSION_COOKIE_NAME"] in RESERVED_COOKIE_NAMES:
        raise ConfigError("PORTAL_SESSION_COOKIE_NAME must differ from Passerelle's and the demo RP's cookie names")
    if not str(values["PORTAL_REQUIRED_ACR"]).strip():
        raise ConfigError("PORTAL_REQUIRED_ACR must name an assurance level")
    try:
        values["PORTAL_SESSION_MAX_AGE"] = int(values["PORTAL_SESSION_MAX_AGE"])
    except (TypeError, ValueError) as error:
        raise ConfigError("PORTAL_SESSION_MAX_AGE must be a number of seconds") from error
    validate_mail(values)
    validate_periods(values)
    values["PORTAL_REPORT_CORRECTION_DAYS"] = _number(values, "PORTAL_REPORT_CORRECTION_DAYS", 0, 366)
    values["PORTAL_REPORT_MAX_BYTES"] = _number(values, "PORTAL_REPORT_MAX_BYTES", 1024, 100 * 1024 * 1024)
    values["PORTAL_REPORT_MAX_ROWS"] = _number(values, "PORTAL_REPORT_MAX_ROWS", 1, 1_000_000)
    return Settings(**{field.name: values[field.name] for field in fields(Settings)})


SMTP_SECURITIES = ("starttls", "tls", "none")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def validate_mail(values: dict[str, Any]) -> None:
    """The SMTP settings: a known security, numbers that are numbers, no clear text to a
    relay off this host outside development, a sender that is an address."""
    if values["PORTAL_SMTP_SECURITY"] not in SMTP_SECURITIES:
        raise ConfigError("PORTAL_SMTP_SECURITY must be starttls, tls or none")
    if (values["PORTAL_SMTP_SECURITY"] == "none" and values["PORTAL_ENV"] != "development"
            and values["PORTAL_SMTP_HOST"] not in LOOPBACK):
        raise ConfigError("PORTAL_SMTP_SECURITY none sends mail in clear: only to a loopback SMTP relay")
    values["PORTAL_SMTP_PORT"] = _number(values, "PORTAL_SMTP_PORT", 1, 65535)
    try:
        values["PORTAL_SMTP_TIMEOUT"] = float(values["PORTAL_SMTP_TIMEOUT"])
    except (TypeError, ValueError) as error:
        raise ConfigError("PORTAL_SMTP_TIMEOUT must be a number of seconds") from error
    if not 0 < values["PORTAL_SMTP_TIMEOUT"] <= 300:
        raise ConfigError("PORTAL_SMTP_TIMEOUT must be between 0 and 300 seconds")
    values["PORTAL_SMTP_USERNAME"] = values["PORTAL_SMTP_USERNAME"] or ""
    values["PORTAL_SMTP_PASSWORD"] = values["PORTAL_SMTP_PASSWORD"] or ""
    sender = values["PORTAL_MAIL_FROM"]
    if sender is not None and "@" not in str(sender):
        raise ConfigError("PORTAL_MAIL_FROM must be an email address")


def validate_periods(values: dict[str, Any]) -> None:
    """The reporting calendar: months 1-12 once each, an opening day that every month has,
    a deadline that comes before the next period opens, reminders inside the period."""
    months = _numbers(values, "PORTAL_PERIOD_MONTHS", 1, 12)
    if not months or len(set(months)) != len(months):
        raise ConfigError("PORTAL_PERIOD_MONTHS must name each month once (1-12), e.g. 4,11")
    values["PORTAL_PERIOD_MONTHS"] = tuple(sorted(months))
    values["PORTAL_PERIOD_OPENING_DAY"] = _number(values, "PORTAL_PERIOD_OPENING_DAY", 1, 28)
    values["PORTAL_PERIOD_DAYS"] = days = _number(values, "PORTAL_PERIOD_DAYS", 1, 366)
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


def _number(values: dict[str, Any], name: str, low: int, high: int) -> int:
    try:
        number = int(values[name])
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a whole number") from error
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}")
    return number
