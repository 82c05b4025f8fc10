"""Startup checks of each area's settings (sign-in, recovery, WebAuthn, the service's name
and theme, passwords, the partners file, the terms folder): a typo or an unsafe value fails
at startup, not at the first request that needs it.

They live here, not in idp.config, so that config imports no feature package while the
features import config (ConfigError, PROJECT_ROOT): no import circle (issue 9, item 20).
idp.config.validate checks what every deployment needs (secrets, issuer, database).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from idp import config
from idp.config import PROJECT_ROOT, ConfigError, is_loopback, webauthn_rp_id
from idp.federation.partners import load_partners
from idp.security.password_policy import PasswordPolicy
from idp.terms.documents import bundled_versions


def validate(settings: Mapping[str, Any]) -> None:
    """config.validate(), then each feature's own check. Raises ConfigError."""
    config.validate(settings)
    _validate_password_and_robot_check(settings)
    _validate_signin(settings)
    _validate_recovery(settings)
    _validate_webauthn(settings)
    _validate_service(settings)
    _validate_partners(settings)
    _validate_terms_directory(settings)
    _validate_operations(settings)


def _validate_operations(settings: Mapping[str, Any]) -> None:
    """Logs, metrics, the management port and the worker (issue 15, idp/ops)."""
    if settings.get("LOG_FORMAT") not in ("text", "json"):
        raise ConfigError("LOG_FORMAT must be text or json")
    if str(settings.get("LOG_LEVEL", "")).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    allowed = settings.get("METRICS_ALLOWED_ADDRESSES")
    if not isinstance(allowed, list | tuple):
        raise ConfigError('METRICS_ALLOWED_ADDRESSES must be a list of addresses or networks, e.g. ["127.0.0.1"]')
    for value in allowed:
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            raise ConfigError(f"METRICS_ALLOWED_ADDRESSES: {value!r} is not an IP address or network") from None
    port = settings.get("MANAGEMENT_PORT")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError("MANAGEMENT_PORT must be a port number, or 0 for none")
    for name in ("WORKER_INTERVAL", "WORKER_PRUNE_INTERVAL", "WORKER_PRUNE_BATCH", "PRUNE_AFTER",
                 "LOGOUT_TIMEOUT", "LOGOUT_MAX_ATTEMPTS", "LOGOUT_RETRY_DELAY", "LOGOUT_TOKEN_TTL"):
        value = settings.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{name} must be a positive number")
    retention = settings.get("SECURITY_EVENTS_RETENTION_DAYS")
    if not isinstance(retention, int) or isinstance(retention, bool) or retention < 0:
        raise ConfigError("SECURITY_EVENTS_RETENTION_DAYS must be a whole number of days, or 0 to keep every event")


def _validate_partners(settings: Mapping[str, Any]) -> None:
    """The partners file (issue 5): idp.federation.partners."""
    for name in ("PARTNER_HTTP_TIMEOUT", "PARTNER_STATE_TTL", "PARTNER_METADATA_CACHE_TTL", "PARTNER_KEYS_MIN_REFRESH"):
        value = settings.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{name} must be a positive number of seconds")
    if not settings.get("PARTNERS_ENABLED", True):
        return  # the file is not read at all (idp.federation.views.init_app)
    for partner in load_partners(settings.get("PARTNERS_FILE")).values():
        if partner.issuer.rstrip("/") == str(settings.get("OIDC_ISSUER") or "").rstrip("/"):
            # Signing in with oneself only loops back here with an error (issue 9 #14).
            raise ConfigError(f"PARTNERS_FILE partner {partner.id!r}: its issuer is this server's own OIDC_ISSUER")


def _validate_terms_directory(settings: Mapping[str, Any]) -> None:
    if settings.get("TERMS_DIRECTORY") and not bundled_versions(Path(settings["TERMS_DIRECTORY"])):
        raise ConfigError(
            "TERMS_DIRECTORY must be a folder holding at least one version folder with "
            "terms.fr.html, terms.en.html, privacy.fr.html and privacy.en.html"
        )


SIGNIN_WHOLE_NUMBERS = (
    "SIGNIN_DELAY_AFTER", "SIGNIN_MAX_DELAY", "SIGNIN_LOCK_THRESHOLD", "SIGNIN_LOCK_DURATION",
    "SIGNIN_TEMPORARY_LOCKS", "SIGNIN_UNLOCK_LINK_TTL",
    "MFA_EMAIL_CODE_TTL", "MFA_EMAIL_CODE_MAX_ATTEMPTS", "MFA_EMAIL_CODE_RESEND_COOLDOWN", "MFA_EMAIL_CODE_DAILY_CAP",
    "MFA_RECOVERY_CODE_COUNT", "MFA_RECOVERY_CODES_LOW", "MFA_MANAGE_FRESHNESS",
)


def _validate_signin(config: Mapping[str, Any]) -> None:
    """The sign-in throttle and emailed code (issue 3): a typo fails at startup, not at the
    first sign-in."""
    if not isinstance(config.get("MFA_REQUIRED"), bool):
        raise ConfigError("MFA_REQUIRED must be true or false")
    for name in SIGNIN_WHOLE_NUMBERS:
        value = config.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a positive whole number")
    try:
        parse_many(str(config.get("SIGNIN_RATE_LIMIT") or ""))
    except ValueError:
        raise ConfigError("SIGNIN_RATE_LIMIT must be a rate limit such as \"60 per minute; 600 per hour\"") from None
    try:
        if config.get("OIDC_CLIENT_AUTH_RATE_LIMIT"):
            parse_many(str(config["OIDC_CLIENT_AUTH_RATE_LIMIT"]))
    except ValueError:
        raise ConfigError("OIDC_CLIENT_AUTH_RATE_LIMIT must be a rate limit such as \"30 per minute\", or \"\"") from None


# The outbox keeps sent messages for two days (MailService.purge_sent), and the cooldown
# reads them: a longer cooldown could outlive what it counts.
MAX_RECOVERY_EMAIL_COOLDOWN = 24 * 3600


def _validate_recovery(config: Mapping[str, Any]) -> None:
    value = config.get("RECOVERY_EMAIL_COOLDOWN")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_RECOVERY_EMAIL_COOLDOWN:
        raise ConfigError(f"RECOVERY_EMAIL_COOLDOWN must be a whole number of seconds from 1 to {MAX_RECOVERY_EMAIL_COOLDOWN}")


def _validate_webauthn(config: Mapping[str, Any]) -> None:
    """WebAuthn binds keys to the RP id, and browsers accept only the page's host or a
    registrable suffix of it (WebAuthn Level 2 §5.1.3 step 8 and §13.4.9). Without the
    public suffix list, "registrable" is checked as: a name with at least one dot (never a
    bare top-level domain), or the host itself (localhost)."""
    name = config.get("WEBAUTHN_RP_NAME")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ConfigError("WEBAUTHN_RP_NAME must be a name of 1 to 64 characters")
    rp_id = config.get("WEBAUTHN_RP_ID")
    if not isinstance(rp_id, str):
        raise ConfigError("WEBAUTHN_RP_ID must be a host name, or empty for the issuer's host")
    host = (urlsplit(config["OIDC_ISSUER"]).hostname or "").lower()
    wanted = webauthn_rp_id(config)
    is_suffix = host.endswith("." + wanted) and "." in wanted.strip(".")
    if wanted != host and not is_suffix:
        raise ConfigError(
            f"WEBAUTHN_RP_ID must be the issuer's host ({host}) or a registrable suffix of it, not {wanted!r}"
        )


STATIC_DIR = PROJECT_ROOT / "idp" / "static"  # THEME_STYLESHEET names a file under it


def _validate_service(config: Mapping[str, Any]) -> None:
    """The service's name and theme (issue 9 #14): what every page and message shows."""
    name = config.get("SERVICE_NAME")
    if not isinstance(name, str) or not name.strip() or len(name) > 64 or any(ch in name for ch in "<>\"\r\n"):
        raise ConfigError("SERVICE_NAME must be a name of 1 to 64 characters, without <, >, \" or line breaks")
    stylesheet = config.get("THEME_STYLESHEET")
    if not isinstance(stylesheet, str):
        raise ConfigError("THEME_STYLESHEET must be a path under idp/static, or empty")
    if stylesheet:
        path = (STATIC_DIR / stylesheet).resolve()
        if not stylesheet.endswith(".css") or not path.is_file() or not path.is_relative_to(STATIC_DIR):
            raise ConfigError(f"THEME_STYLESHEET must name a .css file under idp/static (e.g. css/themes/<name>.css), not {stylesheet!r}")
    colour = config.get("THEME_EMAIL_COLOUR")
    if not isinstance(colour, str) or not (len(colour) == 7 and colour[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in colour[1:])):
        raise ConfigError("THEME_EMAIL_COLOUR must be a colour written #rrggbb")
    for switch in ("REGISTRATION_ENABLED", "PARTNERS_ENABLED"):
        if not isinstance(config.get(switch), bool):
            raise ConfigError(f"{switch} must be true or false")


def _validate_password_and_robot_check(config: Mapping[str, Any]) -> None:
    try:
        PasswordPolicy.from_settings(config)
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"password policy: {error}") from None
    url = config.get("PASSWORD_PWNED_URL")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))
    ):
        raise ConfigError("PASSWORD_PWNED_URL must be an https:// URL (http:// only on loopback)")
    timeout = config.get("PASSWORD_PWNED_TIMEOUT")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 30:
        raise ConfigError("PASSWORD_PWNED_TIMEOUT must be a number of seconds above 0 and at most 30")
    if not isinstance(config.get("PASSWORD_PWNED_CHECK"), bool):
        raise ConfigError("PASSWORD_PWNED_CHECK must be true or false")
    for name in ("ROBOT_CHECK_MAX_NUMBER", "ROBOT_CHECK_TTL"):
        value = config.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a positive whole number")
