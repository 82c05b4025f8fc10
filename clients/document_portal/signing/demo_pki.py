"""A demonstration certificate authority and a school's signing certificate, made by code.

For `make run` and the tests only: `make_demo_pki(directory)` writes a CA certificate, its
key, and « École Imaginaire »'s PKCS#12 (key + certificate + CA) protected by a random
password kept beside it (mode 0600). It is idempotent: when the files are there it reads
them back, so the documents issued in an earlier run keep verifying. Operators load their
own certificates instead (docs/document-portal.md, Signing certificates).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# id-kp-documentSigning (RFC 9336): what readers look for on a document signer's certificate.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
DEMO_SCHOOL = "École Imaginaire"
DEMO_CA = "Autorité de démonstration du portail de documents"
FILES = ("ca.pem", "ca-key.pem", "school.p12", "school-password")


@dataclass(frozen=True)
class DemoPki:
    """Where make_demo_pki left its files."""

    directory: Path

    @property
    def ca_certificate(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def school_pkcs12(self) -> Path:
        return self.directory / "school.p12"

    @property
    def password_file(self) -> Path:
        return self.directory / "school-password"

    def password(self) -> str:
        """The PKCS#12's password (also the CA key's): for make run's environment and tests."""
        return self.password_file.read_text(encoding="utf-8").strip()


def make_demo_pki(directory: str | os.PathLike, *, school_name: str = DEMO_SCHOOL,
                  clock: Callable[[], datetime] | None = None) -> DemoPki:
    """Create (or find) the demo CA and school PKCS#12 in `directory`. Returns their paths."""
    pki = DemoPki(Path(directory))
    if all((pki.directory / name).is_file() for name in FILES):
        return pki
    pki.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = (clock or _utcnow)()
    password = secrets.token_urlsafe(24)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Passerelle (démonstration)"),
                         x509.NameAttribute(NameOID.COMMON_NAME, DEMO_CA)])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), now - timedelta(days=1), now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    school_key, school_cert = issue_demo_certificate(ca_cert, ca_key, school_name, clock=lambda: now)
    encryption = serialization.BestAvailableEncryption(password.encode())
    _write_private(pki.password_file, password.encode())
    _write_private(pki.ca_key, ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    encryption))
    _write_private(pki.school_pkcs12, pkcs12.serialize_key_and_certificates(
        school_name.encode(), school_key, school_cert, [ca_cert], encryption))
    pki.ca_certificate.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return pki


def issue_demo_certificate(ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, name: str, *,
                           timestamping: bool = False, key: CertificateIssuerPrivateKeyTypes | None = None,
                           days: int = 1825, clock: Callable[[], datetime] | None = None,
                           ) -> tuple[CertificateIssuerPrivateKeyTypes, x509.Certificate]:
    """A certificate for `name` under the demo CA, for `key` (a new P-256 key by default): a
    document signer's, or with `timestamping` a timestamp authority's (RFC 3161 §2.3: the
    only, critical, extended key usage), valid for `days`."""
    now = (clock or _utcnow)()
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    usage = [ExtendedKeyUsageOID.TIME_STAMPING] if timestamping else [DOCUMENT_SIGNING]
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now - timedelta(days=1), now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usage), critical=timestamping)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def load_demo_ca(pki: DemoPki) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The demo CA's certificate and key (to issue a timestamp authority's certificate in tests)."""
    cert = x509.load_pem_x509_certificate(pki.ca_certificate.read_bytes())
    key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), pki.password().encode())
    return cert, key


def _builder(subject: x509.Name, issuer: x509.Name, public_key, not_before: datetime, not_after: datetime):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after))


def _key_usage(**granted: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: granted.get(name, False) for name in names})


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def _utcnow() -> datetime:
    return datetime.now(UTC)
