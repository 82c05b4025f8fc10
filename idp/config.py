"""Configuration: load order, validation and the frozen Settings services receive.

Load order (later wins): DEFAULTS, the TOML file named by IDP_CONFIG (default
config/development.toml), IDP_* environment variables, then create_app(overrides).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from idp.defaults import DEFAULTS  # re-exported: the load order starts from it

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_CONFIG_FILE = CONFIG_DIR / "development.toml"

# Secrets shipped in config/development.toml and config/test.toml carry this prefix so that
# production can recognise and refuse them.
INSECURE_SECRET_PREFIX = "insecure-"
SECRET_SETTINGS = ("SECRET_KEY", "SECRETS_HASH_KEY", "KEYS_ENCRYPTION_KEY", "OIDC_PAIRWISE_SALT")
MIN_SECRET_LENGTH = 32
# Settings an operator may give as IDP_<NAME>_FILE, a file holding the value (container
# secrets): the secrets themselves and the settings whose URLs carry a password.
FILE_SETTINGS = (*SECRET_SETTINGS, "SMTP_PASSWORD", "SQLALCHEMY_DATABASE_URI", "RATELIMIT_STORAGE_URI")



class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says which setting and why."""


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the merged configuration dict, in the documented load order."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = dict(DEFAULTS)
    path = Path(environ.get("IDP_CONFIG", DEFAULT_CONFIG_FILE))
    if not path.is_absolute() and not path.exists():
        path = PROJECT_ROOT / path
    with path.open("rb") as handle:
        config.update(tomllib.load(handle))
    config.update(_from_prefixed_env(environ, "IDP_"))
    config.update(_from_secret_files(environ, "IDP_"))
    config.update(overrides or {})
    return config


def _names_a_secret_file(key: str, prefix: str) -> bool:
    return key.endswith("_FILE") and key[len(prefix):-len("_FILE")] in FILE_SETTINGS


def _from_secret_files(environ: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Read IDP_<NAME>_FILE for the FILE_SETTINGS, once, at start. The file's trailing newline
    is not part of the secret; an error names the setting, never the content."""
    values: dict[str, str] = {}
    for name in FILE_SETTINGS:
        path = environ.get(f"{prefix}{name}_FILE")
        if path is None:
            continue
        if f"{prefix}{name}" in environ:
            raise ConfigError(f"{prefix}{name} and {prefix}{name}_FILE are both set: give one")
        try:
            value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ConfigError(f"{prefix}{name}_FILE cannot be read: {error.strerror}") from None
        if not value:
            raise ConfigError(f"{prefix}{name}_FILE names an empty file")
        values[name] = value
    return values


def _from_prefixed_env(environ: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """Read IDP_NAME variables; values that parse as TOML scalars (5000, true) keep their type."""
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(prefix) or key == "IDP_CONFIG" or _names_a_secret_file(key, prefix):
            continue
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        values[key[len(prefix):]] = value
    return values


def validate(config: Mapping[str, Any]) -> None:
    """Refuse to start with a missing or unsafe setting. Raises ConfigError."""
    env = config.get("ENV")
    if env not in ("development", "test", "production"):
        raise ConfigError(f"ENV must be development, test or production, not {env!r}")
    for name in SECRET_SETTINGS:
        value = config.get(name)
        if not value:
            raise ConfigError(f"{name} is missing")
        if env == "production" and (str(value).startswith(INSECURE_SECRET_PREFIX) or len(str(value)) < MIN_SECRET_LENGTH):
            raise ConfigError(f"{name} is a development value or shorter than {MIN_SECRET_LENGTH} characters")
    issuer = config.get("OIDC_ISSUER")
    if not issuer:
        raise ConfigError("OIDC_ISSUER is missing")
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or issuer.endswith("/") or not parts.hostname:
        raise ConfigError("OIDC_ISSUER must be an absolute URL without query, fragment or trailing slash")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
        raise ConfigError("OIDC_ISSUER must use https unless it is a loopback address")
    if env == "production" and parts.scheme == "https" and not config.get("SESSION_COOKIE_SECURE"):
        raise ConfigError("SESSION_COOKIE_SECURE must be true with an https issuer")
    uri = config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        raise ConfigError("SQLALCHEMY_DATABASE_URI is missing")
    if str(uri).startswith("sqlite") and int(config.get("INSTANCES", 1)) > 1:
        raise ConfigError("several instances need PostgreSQL: SQLite is for one host only")
    if config.get("SMTP_SECURITY") not in ("starttls", "tls", "none"):
        raise ConfigError("SMTP_SECURITY must be starttls, tls or none")
    if env == "production" and config.get("SMTP_SECURITY") == "none" and not is_loopback(config.get("SMTP_HOST")):
        raise ConfigError("SMTP_SECURITY none sends mail in clear: only to a loopback SMTP relay")
    if (
        env == "production"
        and int(config.get("INSTANCES", 1)) > 1
        and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory")
    ):
        raise ConfigError("several instances need a shared RATELIMIT_STORAGE_URI (redis://), not memory://")
    if (
        env == "production"
        and int(config.get("INSTANCES", 1)) > 1
        and (config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED") or config.get("RATELIMIT_IN_MEMORY_FALLBACK"))
    ):
        # While Redis is down Flask-Limiter would count in each worker again (issue 9).
        raise ConfigError("several instances must not set RATELIMIT_IN_MEMORY_FALLBACK(_ENABLED): it counts per worker")
    if config.get("OIDC_DEFAULT_ID_TOKEN_ALG") not in ("ES256", "RS256"):
        raise ConfigError("OIDC_DEFAULT_ID_TOKEN_ALG must be ES256 or RS256")
    # Each area's own settings (sign-in, passwords, WebAuthn, partners...): idp.settings_checks.


def webauthn_rp_id(config: Mapping[str, Any]) -> str:
    """The WebAuthn relying-party id: WEBAUTHN_RP_ID, or the issuer's host when empty."""
    return str(config.get("WEBAUTHN_RP_ID") or "").strip().lower() or (urlsplit(config["OIDC_ISSUER"]).hostname or "")


def is_loopback(hostname: str | None) -> bool:
    """localhost or a loopback IP address; "127.evil.example" is a name, not an address."""
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname or "").is_loopback
    except ValueError:
        return False


class Settings(Mapping[str, Any]):
    """A frozen, strict view of the configuration: an unknown name raises, it never defaults."""

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"unknown setting {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
