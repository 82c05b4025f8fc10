"""A school's signing credentials (private key, certificate, chain) from PKCS#12 or PEM.

The password comes from the caller (the app reads it from the environment variable the
settings name, signing/settings.py); it is never logged and never put in an exception
message. Every failure raises a class from errors.py, raised `from None` so that no
underlying message (which could quote the input) travels with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from clients.document_portal.signing.errors import (
    CredentialsIncomplete,
    CredentialsUnreadable,
    PasswordMissing,
    WrongPassword,
)

PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class SigningCredentials:
    """What signing needs: pyHanko's signer (holding the key) and the certificates."""

    signer: SimpleSigner = field(repr=False)
    certificate: asn1_x509.Certificate = field(repr=False)
    chain: tuple[asn1_x509.Certificate, ...] = field(default=(), repr=False)

    @property
    def subject_name(self) -> str:
        """The certificate's common name (or its whole subject when it has none)."""
        return subject_common_name(self.certificate)

    @property
    def organization(self) -> str | None:
        return subject_organization(self.certificate)

    @property
    def certificate_sha256(self) -> str:
        return self.certificate.sha256.hex()


def subject_common_name(certificate: asn1_x509.Certificate) -> str:
    native = certificate.subject.native
    return native.get("common_name") or certificate.subject.human_friendly


def subject_organization(certificate: asn1_x509.Certificate) -> str | None:
    return certificate.subject.native.get("organization_name")


def load_pkcs12(data: bytes, password: str | bytes | None,
                extra_certificates: Iterable[asn1_x509.Certificate] = ()) -> SigningCredentials:
    """Open a PKCS#12 (.p12, .pfx) file's bytes with its password.

    Raises WrongPassword (the file is PKCS#12 but the password does not open it),
    CredentialsUnreadable (not PKCS#12) or CredentialsIncomplete (no key or no certificate).
    """
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(data, _as_bytes(password))
    except (ValueError, TypeError):
        # cryptography says "invalid password or PKCS12 data" for both: tell them apart by
        # whether the outer structure parses as a PFX.
        raise (WrongPassword() if _is_pfx(data) else CredentialsUnreadable()) from None
    if key is None or certificate is None:
        raise CredentialsIncomplete()
    return _credentials(key, certificate, [*others], extra_certificates)


def load_pem(key_pem: bytes, certificate_pem: bytes, password: str | bytes | None = None,
             chain_pem: bytes = b"") -> SigningCredentials:
    """Load a PEM private key (encrypted with `password`, or not encrypted) and its
    certificate, with the intermediate certificates in `chain_pem` (optional).

    Raises PasswordMissing (encrypted key, no password), WrongPassword, CredentialsUnreadable
    or CredentialsIncomplete (the key does not match the certificate).
    """
    encrypted = b"ENCRYPTED" in key_pem[:4096]
    if encrypted and not password:
        raise PasswordMissing()
    try:
        key = serialization.load_pem_private_key(key_pem, _as_bytes(password) if encrypted else None)
    except (ValueError, TypeError):
        raise (WrongPassword() if encrypted else CredentialsUnreadable()) from None
    certificates = load_certificates(certificate_pem)
    if not certificates:
        raise CredentialsIncomplete()
    chain = [x509.load_der_x509_certificate(cert.dump()) for cert in load_certificates(chain_pem)] if chain_pem else []
    leaf = x509.load_der_x509_certificate(certificates[0].dump())
    extra = [x509.load_der_x509_certificate(cert.dump()) for cert in certificates[1:]]
    return _credentials(key, leaf, [*extra, *chain], ())


def load_certificates(pem: bytes) -> list[asn1_x509.Certificate]:
    """Every certificate in a PEM bundle (or one DER certificate). Raises CredentialsUnreadable."""
    try:
        if PEM_CERTIFICATE not in pem:
            return [asn1_x509.Certificate.load(x509.load_der_x509_certificate(pem).public_bytes(
                serialization.Encoding.DER))]
        return [asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
                for cert in x509.load_pem_x509_certificates(pem)]
    except ValueError:
        raise CredentialsUnreadable() from None


def _credentials(key, certificate: x509.Certificate, others: list[x509.Certificate],
                 extra_certificates: Iterable[asn1_x509.Certificate]) -> SigningCredentials:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise CredentialsIncomplete()
    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    leaf = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    chain = tuple(asn1_x509.Certificate.load(other.public_bytes(serialization.Encoding.DER)) for other in others)
    chain += tuple(extra_certificates)
    store = SimpleCertificateStore()
    store.register_multiple(chain)
    signer = SimpleSigner(signing_cert=leaf, signing_key=key_info, cert_registry=store)
    return SigningCredentials(signer=signer, certificate=leaf, chain=chain)


def _is_pfx(data: bytes) -> bool:
    try:
        asn1_pkcs12.Pfx.load(data)["auth_safe"].native  # noqa: B018 (parses the structure)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return False
    return True


def _as_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    return password.encode("utf-8")
