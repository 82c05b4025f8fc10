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
    return Settings(**{field.name: values[field.name] for field in fields(Settings)})
