"""Sign-in partners: reading and checking the operators' partners file (issue 5).

The file named by PARTNERS_FILE (config/partners.example.toml documents every key) lists
the upstream OpenID Connect providers people may sign in with. It is read once at startup
and checked in full: a mistake fails startup with a ConfigError naming the partner and the
key, never a 500 at someone's sign-in. Pure: no Flask, no database.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from idp.config import ConfigError, is_loopback
from idp.signin.assurance import ACR_PASSWORD, ACR_VALUES_SUPPORTED

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# /signin/partners/callback is the redirect URI: no partner may have that id.
RESERVED_IDS = ("callback",)
KNOWN_KEYS = frozenset({
    "enabled", "names", "issuer", "client_id", "client_secret", "client_secret_env", "private_key_file", "scopes",
    "acr_map", "amr_map", "default_acr",
})


@dataclass(frozen=True)
class Partner:
    """One upstream provider, as the operator configured it."""

    id: str
    names: Mapping[str, str]  # display name per language: {"fr": ..., "en": ...}
    issuer: str
    client_id: str
    # client_secret_basic with this secret, or None with private_key (private_key_jwt).
    client_secret: str | None = field(repr=False)
    scopes: tuple[str, ...] = ("openid",)
    # The partner's acr values and amr values, each to the Passerelle level it proves.
    acr_map: Mapping[str, str] = field(default_factory=dict)
    amr_map: Mapping[str, str] = field(default_factory=dict)
    # The level of a sign-in whose acr and amr map to nothing.
    default_acr: str = ACR_PASSWORD
    enabled: bool = True
    # private_key_jwt (OIDC Core §9, RFC 7523): Passerelle's private key for this partner.
    private_key: Any = field(default=None, repr=False)

    @property
    def auth_method(self) -> str:
        return "private_key_jwt" if self.private_key is not None else "client_secret_basic"

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["fr"]

    @property
    def discovery_url(self) -> str:
        """OIDC Discovery 1.0 §4: the issuer plus /.well-known/openid-configuration."""
        return self.issuer + "/.well-known/openid-configuration"

    def level_for(self, acr: str | None, amr: list[str] | None) -> str:
        """The Passerelle level the partner's acr and amr prove: the highest any of them
        maps to, else default_acr. Values the operator did not map prove nothing more."""
        levels = [self.default_acr]
        if isinstance(acr, str) and acr in self.acr_map:
            levels.append(self.acr_map[acr])
        for value in amr if isinstance(amr, list) else []:
            if isinstance(value, str) and value in self.amr_map:
                levels.append(self.amr_map[value])
        return max(levels, key=ACR_VALUES_SUPPORTED.index)


def load_partners(path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> dict[str, Partner]:
    """Every partner of the file, enabled or not, by id; {} when path is empty.

    Raises ConfigError when the file is missing, is not TOML or a partner is wrong.
    """
    if not path:
        return {}
    environ = os.environ if environ is None else environ
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"PARTNERS_FILE {path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"PARTNERS_FILE {path}: not valid TOML ({error})") from None
    unknown = set(data) - {"partners"}
    if unknown:
        raise ConfigError(f"PARTNERS_FILE {path}: unknown top-level keys {sorted(unknown)}; partners go under [partners.<id>]")
    tables = data.get("partners", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"PARTNERS_FILE {path}: [partners] must be a table of [partners.<id>] tables")
    partners = {partner_id: _partner(partner_id, table, environ) for partner_id, table in tables.items()}
    issuers = [partner.issuer for partner in partners.values()]
    duplicates = sorted({issuer for issuer in issuers if issuers.count(issuer) > 1})
    if duplicates:
        # Accounts are linked by (issuer, subject): two partners with one issuer would share people.
        raise ConfigError(f"PARTNERS_FILE: several partners have the issuer {duplicates[0]}")
    return partners


def _partner(partner_id: str, table: Any, environ: Mapping[str, str]) -> Partner:
    where = f"PARTNERS_FILE partner {partner_id!r}"
    if not PARTNER_ID.match(partner_id) or partner_id in RESERVED_IDS:
        raise ConfigError(f"{where}: the id must be 1 to 63 lowercase letters, digits or hyphens, and not {' or '.join(RESERVED_IDS)}")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled must be true or false")
    names = table.get("names")
    if not isinstance(names, dict) or set(names) != {"fr", "en"} or not all(isinstance(v, str) and v.strip() for v in names.values()):
        raise ConfigError(f"{where}: names must give a display name in fr and in en, e.g. names = {{ fr = \"…\", en = \"…\" }}")
    issuer = _issuer(where, table.get("issuer"))
    client_id = table.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise ConfigError(f"{where}: client_id is missing")
    private_key = _private_key(where, table) if "private_key_file" in table else None
    secret = _client_secret(where, table, environ) if private_key is None else None
    scopes = table.get("scopes", ["openid"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s and " " not in s for s in scopes) or "openid" not in scopes:
        raise ConfigError(f"{where}: scopes must be a list of scope names that includes \"openid\"")
    acr_map = _level_map(where, "acr_map", table.get("acr_map", {}))
    amr_map = _level_map(where, "amr_map", table.get("amr_map", {}))
    default_acr = table.get("default_acr", ACR_PASSWORD)
    if default_acr not in ACR_VALUES_SUPPORTED:
        raise ConfigError(f"{where}: default_acr must be one of {', '.join(ACR_VALUES_SUPPORTED)}")
    return Partner(
        id=partner_id, names={"fr": names["fr"].strip(), "en": names["en"].strip()}, issuer=issuer,
        client_id=client_id, client_secret=secret, scopes=tuple(dict.fromkeys(scopes)),
        acr_map=acr_map, amr_map=amr_map, default_acr=default_acr, enabled=enabled, private_key=private_key,
    )


def _issuer(where: str, issuer: Any) -> str:
    if not isinstance(issuer, str) or not issuer:
        raise ConfigError(f"{where}: issuer is missing")
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or issuer.endswith("/") or not parts.hostname:
        raise ConfigError(f"{where}: issuer must be an absolute URL without query, fragment or trailing slash")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
        raise ConfigError(f"{where}: issuer must use https unless it is a loopback address")
    return issuer


def _private_key(where: str, table: Mapping[str, Any]):
    """private_key_file: a private JWK (JSON) or PEM file, EC P-256 (ES256) or RSA (RS256).
    The partner registers its public part; its kid is the RFC 7638 thumbprint."""
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, RSAKey

    if "client_secret" in table or "client_secret_env" in table:
        raise ConfigError(f"{where}: give client_secret, client_secret_env or private_key_file, only one")
    path = table["private_key_file"]
    try:
        raw = Path(path).read_bytes()
    except (OSError, TypeError):
        raise ConfigError(f"{where}: private_key_file {path!r} cannot be read") from None
    try:
        data = json.loads(raw)  # a JWK
    except ValueError:
        data = raw  # PEM
    for key_class in (ECKey, RSAKey):
        try:
            key = key_class.import_key(data)
        except (JoseError, ValueError, TypeError):
            continue
        if not key.is_private or (isinstance(key, ECKey) and key.curve_name != "P-256"):
            break
        return key
    raise ConfigError(f"{where}: private_key_file must hold an EC P-256 or RSA private key (JWK or PEM)")


def _client_secret(where: str, table: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """client_secret in the file, or client_secret_env naming an environment variable
    (design.md, Configuration: secrets come from the environment, not the repository)."""
    if "client_secret" in table and "client_secret_env" in table:
        raise ConfigError(f"{where}: give client_secret or client_secret_env, not both")
    if "client_secret_env" in table:
        name = table["client_secret_env"]
        secret = environ.get(name) if isinstance(name, str) else None
        if not secret:
            raise ConfigError(f"{where}: the environment variable named by client_secret_env ({name}) is not set")
        return secret
    secret = table.get("client_secret")
    if not isinstance(secret, str) or not secret:
        raise ConfigError(f"{where}: client_secret (or client_secret_env) is missing")
    return secret


def _level_map(where: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} must be a table of partner value = Passerelle acr")
    for partner_value, level in value.items():
        if level not in ACR_VALUES_SUPPORTED:
            raise ConfigError(
                f"{where}: {key}[{partner_value!r}] must be one of {', '.join(ACR_VALUES_SUPPORTED)}, not {level!r}"
            )
    return dict(value)
