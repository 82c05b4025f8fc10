"""Loading and checking a portal's settings, whatever its prefix (PORTAL_*, DOCUMENT_PORTAL_*).

Load order: the portal's DEFAULTS, then the TOML file named by its <PREFIX>CONFIG
environment variable (if any), then every setting's environment variable, then the
overrides given to create_app (tests). No Flask.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "production")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Cookie names no portal may use: Passerelle's and the demo relying party's (on one host,
# cookies ignore ports, so a shared name would mix sessions).
RESERVED_COOKIE_NAMES = frozenset({"passerelle_session", "passerelle_lang", "demo_rp_session", "session"})


class ConfigError(RuntimeError):
    """The settings are missing something or contradict themselves: the portal does not start."""


def load(defaults: dict[str, Any], prefix: str, overrides: dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Every setting from the four sources, later ones winning."""
    environ = os.environ if environ is None else environ
    values = dict(defaults)
    path = environ.get(f"{prefix}CONFIG")
    if path:
        with open(path, "rb") as handle:
            values.update({key: value for key, value in tomllib.load(handle).items() if key in defaults})
    for name in defaults:
        if name in environ:
            values[name] = environ[name]
    values.update(overrides or {})
    return values


def check_core(values: dict[str, Any], prefix: str, required: Iterable[str], own_cookies: Iterable[str] = ()) -> None:
    """What every portal refuses to start without: the required settings, a known
    environment, a secret key of 32 characters or more, https URLs (http on loopback only),
    a cookie name of its own. Normalizes the URLs (no trailing slash)."""
    missing = [name for name in required if not values.get(name)]
    if missing:
        raise ConfigError(f"missing settings: {', '.join(missing)}")
    if values[f"{prefix}ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"{prefix}ENV must be one of {', '.join(ENVIRONMENTS)}")
    if len(str(values[f"{prefix}SECRET_KEY"])) < 32:
        raise ConfigError(f"{prefix}SECRET_KEY must hold at least 32 random characters")
    for name in (f"{prefix}ISSUER", f"{prefix}BASE_URL"):
        values[name] = check_url(name, values[name])
    if values[f"{prefix}SESSION_COOKIE_NAME"] in RESERVED_COOKIE_NAMES | set(own_cookies):
        raise ConfigError(f"{prefix}SESSION_COOKIE_NAME must differ from Passerelle's, the demo RP's and the "
                          "other portal's cookie names")
    values[f"{prefix}SESSION_MAX_AGE"] = number(values, f"{prefix}SESSION_MAX_AGE", 60, 7 * 24 * 3600)
    values[f"{prefix}PROXY_FIX_X_FOR"] = number(values, f"{prefix}PROXY_FIX_X_FOR", 0, 5)


def check_url(name: str, value: Any) -> str:
    """An http(s) URL without trailing slash; http only for loopback."""
    url = str(value).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ConfigError(f"{name} must use https (http is only for loopback)")
    return url


def number(values: dict[str, Any], name: str, low: int, high: int) -> int:
    try:
        value = int(values[name])
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a whole number") from error
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}")
    return value


def check_mail(values: dict[str, Any], prefix: str) -> None:
    """The SMTP settings (<prefix>MAIL_FROM, <prefix>SMTP_*): a known security, numbers that
    are numbers, no clear text to a relay off this host outside development, a sender that
    is an address."""
    security = values[f"{prefix}SMTP_SECURITY"]
    if security not in ("starttls", "tls", "none"):
        raise ConfigError(f"{prefix}SMTP_SECURITY must be starttls, tls or none")
    if security == "none" and values[f"{prefix}ENV"] != "development" and values[f"{prefix}SMTP_HOST"] not in LOOPBACK:
        raise ConfigError(f"{prefix}SMTP_SECURITY none sends mail in clear: only to a loopback SMTP relay")
    values[f"{prefix}SMTP_PORT"] = number(values, f"{prefix}SMTP_PORT", 1, 65535)
    try:
        values[f"{prefix}SMTP_TIMEOUT"] = float(values[f"{prefix}SMTP_TIMEOUT"])
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{prefix}SMTP_TIMEOUT must be a number of seconds") from error
    if not 0 < values[f"{prefix}SMTP_TIMEOUT"] <= 300:
        raise ConfigError(f"{prefix}SMTP_TIMEOUT must be between 0 and 300 seconds")
    values[f"{prefix}SMTP_USERNAME"] = values[f"{prefix}SMTP_USERNAME"] or ""
    values[f"{prefix}SMTP_PASSWORD"] = values[f"{prefix}SMTP_PASSWORD"] or ""
    sender = values[f"{prefix}MAIL_FROM"]
    if sender is not None and "@" not in str(sender):
        raise ConfigError(f"{prefix}MAIL_FROM must be an email address")
