"""Which certificate signs for which issuing organization, and which roots verification trusts.

The portal's TOML settings file holds one table per issuing organization, keyed by the
organization's number at Passerelle (docs/document-portal.md, Signing certificates):

    [DOCUMENT_PORTAL_SIGNERS."O123456789012"]
    pkcs12 = "/etc/document-portal/ecole-imaginaire.p12"   # or key + certificate (+ chain), PEM
    password_env = "ECOLE_IMAGINAIRE_SIGNING_PASSWORD"      # or password_file
    location = "Montréal (Québec)"                          # optional, shown by PDF readers

    DOCUMENT_PORTAL_TRUST_ROOTS = ["/etc/document-portal/school-ca.pem"]

`parse_signing_settings` checks the shape at start-up (the app refuses to start on a
mistake, naming the setting); `load_signer` opens the files and reads the password from
the environment. No Flask here: the app passes its config mapping and os.environ in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import x509 as asn1_x509

from clients.document_portal.signing.credentials import (
    SigningCredentials,
    load_certificates,
    load_pem,
    load_pkcs12,
)
from clients.document_portal.signing.errors import (
    CredentialsError,
    CredentialsUnreadable,
    NoSignerForOrganization,
    PasswordMissing,
    SignerConfigError,
)
from clients.document_portal.signing.verification import check_signer_trusted

# The portal's DEFAULTS take these (its config.py), each documented in docs/document-portal.md.
SIGNING_DEFAULTS: dict[str, Any] = {
    # One table per issuing organization's number: pkcs12 (or key + certificate [+ chain]),
    # password_env (or password_file), and optional location and contact shown by readers.
    "DOCUMENT_PORTAL_SIGNERS": {},
    # PEM files of the roots whose certificates verification trusts (the schools' CAs).
    "DOCUMENT_PORTAL_TRUST_ROOTS": (),
    # An RFC 3161 timestamp authority: empty signs PAdES-B-B, a URL PAdES-B-T.
    "DOCUMENT_PORTAL_TSA_URL": "",
    # Seconds the timestamp authority may take before the issue is refused (try again).
    "DOCUMENT_PORTAL_TSA_TIMEOUT": 10,
    # PEM files of the roots the timestamp authority's certificate chains to.
    "DOCUMENT_PORTAL_TSA_TRUST_ROOTS": (),
    # The largest PDF taken in (upload or signed file to verify), in bytes.
    "DOCUMENT_PORTAL_MAX_PDF_BYTES": 10 * 1024 * 1024,
}

SIGNER_KEYS = frozenset({"pkcs12", "key", "certificate", "chain", "password_env", "password_file",
                         "location", "contact"})
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ORG_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


@dataclass(frozen=True)
class SignerConfig:
    """One issuing organization's signer, as configured (files not opened yet)."""

    organization_number: str
    pkcs12: Path | None = None
    key: Path | None = None
    certificate: Path | None = None
    chain: tuple[Path, ...] = ()
    password_env: str | None = None
    password_file: Path | None = None
    location: str | None = None
    contact: str | None = None

    @property
    def setting(self) -> str:
        return f'DOCUMENT_PORTAL_SIGNERS."{self.organization_number}"'


@dataclass(frozen=True)
class SigningSettings:
    """The signing part of the portal's settings, checked."""

    signers: Mapping[str, SignerConfig]
    trust_roots: tuple[Path, ...]
    tsa_url: str | None
    tsa_timeout: float
    tsa_trust_roots: tuple[Path, ...]
    max_pdf_bytes: int

    def signer_for(self, organization_number: str) -> SignerConfig:
        """Raises NoSignerForOrganization when the organization has no signer configured."""
        try:
            return self.signers[organization_number]
        except KeyError:
            raise NoSignerForOrganization(organization_number) from None


def parse_signing_settings(config: Mapping[str, Any]) -> SigningSettings:
    """Check the DOCUMENT_PORTAL_* signing settings. Raises SignerConfigError naming the key."""
    merged = {**SIGNING_DEFAULTS, **{key: value for key, value in config.items() if key in SIGNING_DEFAULTS}}
    table = merged["DOCUMENT_PORTAL_SIGNERS"]
    if not isinstance(table, Mapping):
        raise SignerConfigError("DOCUMENT_PORTAL_SIGNERS must be a table of organization numbers")
    signers = {str(number): parse_signer(str(number), entry) for number, entry in table.items()}
    tsa_url = (merged["DOCUMENT_PORTAL_TSA_URL"] or "").strip() or None
    if tsa_url and (urlsplit(tsa_url).scheme not in ("http", "https") or not urlsplit(tsa_url).hostname):
        raise SignerConfigError("DOCUMENT_PORTAL_TSA_URL must be an http(s) URL")
    timeout = merged["DOCUMENT_PORTAL_TSA_TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        raise SignerConfigError("DOCUMENT_PORTAL_TSA_TIMEOUT must be between 1 and 60 seconds")
    max_bytes = merged["DOCUMENT_PORTAL_MAX_PDF_BYTES"]
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1024:
        raise SignerConfigError("DOCUMENT_PORTAL_MAX_PDF_BYTES must be a number of bytes (at least 1024)")
    return SigningSettings(
        signers=signers,
        trust_roots=_paths("DOCUMENT_PORTAL_TRUST_ROOTS", merged["DOCUMENT_PORTAL_TRUST_ROOTS"]),
        tsa_url=tsa_url,
        tsa_timeout=float(timeout),
        tsa_trust_roots=_paths("DOCUMENT_PORTAL_TSA_TRUST_ROOTS", merged["DOCUMENT_PORTAL_TSA_TRUST_ROOTS"]),
        max_pdf_bytes=max_bytes,
    )


def parse_signer(number: str, entry: Any) -> SignerConfig:
    """One organization's table. Raises SignerConfigError naming the key."""
    setting = f'DOCUMENT_PORTAL_SIGNERS."{number}"'
    if not ORG_NUMBER.fullmatch(number):
        raise SignerConfigError(f"{setting}: not an organization number")
    if not isinstance(entry, Mapping):
        raise SignerConfigError(f"{setting} must be a table")
    unknown = sorted(set(entry) - SIGNER_KEYS)
    if unknown:
        raise SignerConfigError(f"{setting}: unknown keys {', '.join(unknown)}")
    pem = "key" in entry or "certificate" in entry
    if ("pkcs12" in entry) == pem:
        raise SignerConfigError(f"{setting}: give either pkcs12, or key and certificate (PEM)")
    if pem and not ("key" in entry and "certificate" in entry):
        raise SignerConfigError(f"{setting}: PEM needs both key and certificate")
    if "chain" in entry and not pem:
        raise SignerConfigError(f"{setting}: chain goes with PEM (a PKCS#12 file carries its chain)")
    if ("password_env" in entry) == ("password_file" in entry):
        raise SignerConfigError(f"{setting}: give exactly one of password_env and password_file")
    password_env = entry.get("password_env")
    if password_env is not None and not (isinstance(password_env, str) and ENV_NAME.fullmatch(password_env)):
        raise SignerConfigError(f"{setting}.password_env must name an environment variable")
    for key in ("location", "contact"):
        if key in entry and not (isinstance(entry[key], str) and 0 < len(entry[key]) <= 200):
            raise SignerConfigError(f"{setting}.{key} must be a short text")
    return SignerConfig(
        organization_number=number,
        pkcs12=_path(f"{setting}.pkcs12", entry.get("pkcs12")),
        key=_path(f"{setting}.key", entry.get("key")),
        certificate=_path(f"{setting}.certificate", entry.get("certificate")),
        chain=_paths(f"{setting}.chain", entry.get("chain", ())),
        password_env=password_env,
        password_file=_path(f"{setting}.password_file", entry.get("password_file")),
        location=entry.get("location"),
        contact=entry.get("contact"),
    )


def load_signer(config: SignerConfig, environ: Mapping[str, str],
                trust_roots: list[asn1_x509.Certificate] | None = None, at: datetime | None = None,
                ) -> SigningCredentials:
    """Open the signer's files with the password from the environment (or its file), and
    with `trust_roots` check that its certificate chains to one of them at `at` (now).

    Raises a CredentialsError subclass (SignerNotTrusted for the check) whose message names
    the setting and the variable or file, never the password.
    """
    password = _password(config, environ)
    try:
        if config.pkcs12 is not None:
            credentials = load_pkcs12(_read(config, config.pkcs12), password)
        else:
            chain = b"".join(_read(config, path) for path in config.chain)
            credentials = load_pem(_read(config, config.key), _read(config, config.certificate), password, chain)
        if trust_roots is not None:
            check_signer_trusted(credentials, trust_roots, at)
    except CredentialsError as error:
        if error.args:
            raise
        source = f"${config.password_env}" if config.password_env else str(config.password_file)
        raise type(error)(f"{config.setting}: {_DESCRIPTIONS[type(error).__name__]} (password from {source})") from None
    return credentials


def load_trust_roots(paths: tuple[Path, ...] | list[Path], setting: str = "DOCUMENT_PORTAL_TRUST_ROOTS",
                     ) -> list[asn1_x509.Certificate]:
    """Every certificate in the PEM files named. Raises SignerConfigError naming the file."""
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            roots.extend(load_certificates(Path(path).read_bytes()))
        except (OSError, CredentialsError):
            raise SignerConfigError(f"{setting}: cannot read certificates from {path}") from None
    return roots


_DESCRIPTIONS = {
    "WrongPassword": "the password does not open the key",
    "CredentialsUnreadable": "the file is neither PKCS#12 nor PEM",
    "CredentialsIncomplete": "no private key, no certificate, or a key that does not match the certificate",
    "PasswordMissing": "the key is encrypted and no password was given",
    "SignerNotTrusted": "the certificate does not chain to DOCUMENT_PORTAL_TRUST_ROOTS, has expired, "
                        "or does not allow signing",
}


def _password(config: SignerConfig, environ: Mapping[str, str]) -> str:
    if config.password_env is not None:
        value = environ.get(config.password_env, "")
        if not value:
            raise PasswordMissing(f"{config.setting}: the environment variable {config.password_env} is unset or empty")
        return value
    try:
        value = config.password_file.read_text(encoding="utf-8").strip()
    except OSError:
        raise PasswordMissing(f"{config.setting}: cannot read {config.password_file}") from None
    if not value:
        raise PasswordMissing(f"{config.setting}: {config.password_file} is empty")
    return value


def _read(config: SignerConfig, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise CredentialsUnreadable(f"{config.setting}: cannot read {path}") from None


def _path(setting: str, value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SignerConfigError(f"{setting} must be a file path")
    return Path(value)


def _paths(setting: str, value: Any) -> tuple[Path, ...]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]  # one environment variable
    if not isinstance(value, list | tuple):
        raise SignerConfigError(f"{setting} must be a list of file paths")
    return tuple(_path(setting, item.strip() if isinstance(item, str) else item) for item in value)
