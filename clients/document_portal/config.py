"""The document portal's settings (DOCUMENT_PORTAL_* keys), loaded and validated at start.

Load order (portal_kit.config): DEFAULTS, then the TOML file named by the
DOCUMENT_PORTAL_CONFIG environment variable (if any), then every DOCUMENT_PORTAL_*
environment variable, then the overrides given to create_app (tests). Services receive the
frozen Settings, never app.config. Documented in docs/document-portal.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from clients.document_portal.signing.settings import SIGNING_DEFAULTS
from clients.portal_kit.config import ConfigError, check_core, check_mail, check_url, number
from clients.portal_kit.config import load as load_values

__all__ = ["DEFAULTS", "ConfigError", "Settings", "load", "validate"]

PREFIX = "DOCUMENT_PORTAL_"
MEGABYTE = 1024 * 1024

DEFAULTS: dict[str, Any] = {
    # "development" or "production". Outside development the session cookie is Secure and
    # every URL must be https (loopback excepted).
    "DOCUMENT_PORTAL_ENV": "production",
    # Passerelle's issuer, exactly as its discovery document says (no trailing slash).
    "DOCUMENT_PORTAL_ISSUER": None,
    # This portal's client registration at Passerelle (`idp clients create`, or `idp demo`):
    # scopes openid profile email organization invitations, grant types authorization_code
    # and client_credentials.
    "DOCUMENT_PORTAL_CLIENT_ID": None,
    "DOCUMENT_PORTAL_CLIENT_SECRET": None,
    # Where people reach this portal: the redirect URI is {BASE_URL}/callback and the
    # post-logout redirect URI {BASE_URL}/signed-out; register both at Passerelle.
    "DOCUMENT_PORTAL_BASE_URL": None,
    # Signs this portal's session cookie: at least 32 random characters, never shared.
    "DOCUMENT_PORTAL_SECRET_KEY": None,
    # The portal's own database (SQLite for one host, PostgreSQL in production).
    "DOCUMENT_PORTAL_DATABASE_URL": None,
    # The assurance level staff of an issuing organization must reach (docs/oidc.md,
    # Requiring two-factor), with "mfa" in amr. Learners are not asked for it.
    "DOCUMENT_PORTAL_REQUIRED_ACR": "urn:passerelle:acr:mfa",
    # A portal session ends this many seconds after sign-in.
    "DOCUMENT_PORTAL_SESSION_MAX_AGE": 8 * 3600,
    # A cookie name of its own (cookies ignore ports: one host serves every portal in development).
    "DOCUMENT_PORTAL_SESSION_COOKIE_NAME": "document_portal_session",
    # How many reverse proxies in front of the portal set X-Forwarded-For (0: none). Behind
    # them, the client's address that per-address limits count comes from that header.
    "DOCUMENT_PORTAL_PROXY_FIX_X_FOR": 0,
    # Where the help link of every page leads; the portal's own help page by default.
    "DOCUMENT_PORTAL_HELP_URL": None,
    # The learners' FAQ the invitation email links to; the portal's own help page by default.
    "DOCUMENT_PORTAL_FAQ_URL": None,
    # Each school's own page about how it uses the portal, by organization number (seed 000:
    # « Des renseignements généraux … se trouvent sur la [École Imaginaire] »), linked in
    # the invitation email. A table in the settings file:
    #   [DOCUMENT_PORTAL_SCHOOL_PAGES]
    #   "E000000000001" = "https://ecole-imaginaire.ca/mescertif"
    "DOCUMENT_PORTAL_SCHOOL_PAGES": {},
    # The largest CSV + ZIP of a bulk issue, in bytes (the largest PDF is
    # DOCUMENT_PORTAL_MAX_PDF_BYTES, with the signing settings). Anything larger is refused
    # before it is read (413).
    "DOCUMENT_PORTAL_MAX_BULK_BYTES": 50 * MEGABYTE,
    # Seconds a call to Passerelle's invitations API may take.
    "DOCUMENT_PORTAL_API_TIMEOUT": 10,
    # The portal's own mail (a learner is told when a school withdraws their document): the
    # address it sends from (e.g. "Portail de documents <no-reply@documents.example.ca>"),
    # none to send nothing, and its SMTP relay.
    "DOCUMENT_PORTAL_MAIL_FROM": None,
    "DOCUMENT_PORTAL_SMTP_HOST": "127.0.0.1",
    "DOCUMENT_PORTAL_SMTP_PORT": 25,
    # starttls, tls (implicit TLS, usually port 465) or none (loopback or development only).
    "DOCUMENT_PORTAL_SMTP_SECURITY": "starttls",
    "DOCUMENT_PORTAL_SMTP_USERNAME": "",
    "DOCUMENT_PORTAL_SMTP_PASSWORD": "",
    # Seconds each SMTP step may take (connection, greeting, each command and reply).
    "DOCUMENT_PORTAL_SMTP_TIMEOUT": 10,
    # Share-link guessing (docs/document-portal.md, Sharing): at most this many failed look-ups
    # (unknown or dead links, wrong access codes) per client address in each window of
    # this many seconds; then every share page answers 429 to that address until the window
    # ends. Counted in the portal's database, so every worker and host shares the count.
    "DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT": 30,
    "DOCUMENT_PORTAL_SHARE_ATTEMPTS_WINDOW": 900,
    # The signers of each issuing organization, trust roots, timestamp authority and the
    # largest PDF (signing/settings.py, docs/document-portal.md, Signing certificates).
    **SIGNING_DEFAULTS,
}

REQUIRED = tuple(f"{PREFIX}{name}" for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "BASE_URL", "SECRET_KEY",
                                                 "DATABASE_URL"))
OTHER_PORTAL_COOKIES = ("institution_portal_session",)


@dataclass(frozen=True)
class Settings:
    """The validated settings, as services see them."""

    DOCUMENT_PORTAL_ENV: str
    DOCUMENT_PORTAL_ISSUER: str
    DOCUMENT_PORTAL_CLIENT_ID: str
    DOCUMENT_PORTAL_CLIENT_SECRET: str = field(repr=False)
    DOCUMENT_PORTAL_BASE_URL: str
    DOCUMENT_PORTAL_SECRET_KEY: str = field(repr=False)
    DOCUMENT_PORTAL_DATABASE_URL: str
    DOCUMENT_PORTAL_REQUIRED_ACR: str
    DOCUMENT_PORTAL_SESSION_MAX_AGE: int
    DOCUMENT_PORTAL_SESSION_COOKIE_NAME: str
    DOCUMENT_PORTAL_PROXY_FIX_X_FOR: int
    DOCUMENT_PORTAL_HELP_URL: str | None
    DOCUMENT_PORTAL_FAQ_URL: str | None
    DOCUMENT_PORTAL_SCHOOL_PAGES: dict[str, str]
    DOCUMENT_PORTAL_MAX_PDF_BYTES: int
    DOCUMENT_PORTAL_MAX_BULK_BYTES: int
    DOCUMENT_PORTAL_API_TIMEOUT: int
    DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT: int
    DOCUMENT_PORTAL_SHARE_ATTEMPTS_WINDOW: int
    DOCUMENT_PORTAL_MAIL_FROM: str | None
    DOCUMENT_PORTAL_SMTP_HOST: str
    DOCUMENT_PORTAL_SMTP_PORT: int
    DOCUMENT_PORTAL_SMTP_SECURITY: str
    DOCUMENT_PORTAL_SMTP_USERNAME: str
    DOCUMENT_PORTAL_SMTP_PASSWORD: str = field(repr=False)
    DOCUMENT_PORTAL_SMTP_TIMEOUT: float

    @property
    def is_development(self) -> bool:
        return self.DOCUMENT_PORTAL_ENV == "development"

    @property
    def redirect_uri(self) -> str:
        return f"{self.DOCUMENT_PORTAL_BASE_URL}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.DOCUMENT_PORTAL_BASE_URL}/signed-out"

    def school_page(self, organization_number: str | None) -> str | None:
        return self.DOCUMENT_PORTAL_SCHOOL_PAGES.get(organization_number or "")

    @property
    def faq_url(self) -> str:
        return self.DOCUMENT_PORTAL_FAQ_URL or f"{self.DOCUMENT_PORTAL_BASE_URL}/help"

    @property
    def max_request_bytes(self) -> int:
        """The largest request body the portal reads (a bulk issue and its form fields)."""
        return max(self.DOCUMENT_PORTAL_MAX_PDF_BYTES, self.DOCUMENT_PORTAL_MAX_BULK_BYTES) + MEGABYTE


def load(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Every setting (the signing ones included, for signing.settings) from the four sources."""
    return load_values(DEFAULTS, PREFIX, overrides, environ)


def validate(values: dict[str, Any]) -> Settings:
    """Refuse to start on a missing secret, an unknown environment, an http:// address that
    is not loopback, a short secret key, a borrowed cookie name or impossible sizes."""
    check_core(values, PREFIX, REQUIRED, OTHER_PORTAL_COOKIES)
    if not str(values[f"{PREFIX}REQUIRED_ACR"]).strip():
        raise ConfigError(f"{PREFIX}REQUIRED_ACR must name an assurance level")
    for name in (f"{PREFIX}HELP_URL", f"{PREFIX}FAQ_URL"):
        if values[name]:
            values[name] = check_url(name, values[name])
    values[f"{PREFIX}SCHOOL_PAGES"] = school_pages(values[f"{PREFIX}SCHOOL_PAGES"])
    values[f"{PREFIX}MAX_PDF_BYTES"] = number(values, f"{PREFIX}MAX_PDF_BYTES", 1024, 100 * MEGABYTE)
    values[f"{PREFIX}MAX_BULK_BYTES"] = number(values, f"{PREFIX}MAX_BULK_BYTES", 1024, 100 * MEGABYTE)
    values[f"{PREFIX}API_TIMEOUT"] = number(values, f"{PREFIX}API_TIMEOUT", 1, 120)
    check_mail(values, PREFIX)
    values[f"{PREFIX}SHARE_ATTEMPTS_LIMIT"] = number(values, f"{PREFIX}SHARE_ATTEMPTS_LIMIT", 1, 10_000)
    values[f"{PREFIX}SHARE_ATTEMPTS_WINDOW"] = number(values, f"{PREFIX}SHARE_ATTEMPTS_WINDOW", 60, 86_400)
    return Settings(**{field.name: values[field.name] for field in fields(Settings)})


def school_pages(value: Any) -> dict[str, str]:
    """{organization number: https URL}, from a table of the settings file."""
    name = f"{PREFIX}SCHOOL_PAGES"
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a table of the settings file: organization number = URL")
    return {str(number_): check_url(f"{name}.{number_}", url) for number_, url in value.items()}
