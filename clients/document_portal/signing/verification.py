"""Verify a signed PDF: is it signed, unaltered, by whom, when, and does it chain to a root we trust?

`verify(pdf_bytes, trust_roots)` judges the document's last signature (the portal's is
always the last one it writes) with pyHanko. It never fetches anything: no revocation
look-ups and no certificates by URL (allow_fetching=False), so a PDF uploaded to the public
page cannot make the portal call an address of the uploader's choosing. Whether the portal
issued the document and whether it was withdrawn are questions for the database: the result
carries `signed_revision_sha256` (the sha256 of the file up to the end of the signed
revision, equal to the issued file's sha256 when only bytes were appended after it) for
that look-up.

A signature is VALID only when it covers the whole file: this portal never adds anything
after its signature, so any incremental update (an annotation, a form change, a second
signature) makes the result MODIFIED even when pyHanko's difference analysis would call the
change harmless; the signed part can still be checked through signed_revision_sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, ValidationError

from clients.document_portal.signing.credentials import (
    SigningCredentials,
    subject_common_name,
    subject_organization,
)
from clients.document_portal.signing.errors import SignerNotTrusted
from clients.document_portal.signing.event_loop import outside_any_event_loop

# A school's certificate may carry non-repudiation (content commitment), digital signature, or both.
KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)


class VerificationStatus(StrEnum):
    """The one-word verdict a page shows (most serious first)."""

    UNREADABLE = "unreadable"  # not a PDF, damaged, or encrypted
    UNSIGNED = "unsigned"  # a PDF with no signature
    ALTERED = "altered"  # the signature does not match the bytes it covers, or is broken
    UNTRUSTED = "untrusted"  # intact, but the certificate does not chain to a trusted root (or expired)
    MODIFIED = "modified"  # intact and trusted, but bytes were added after the signature
    VALID = "valid"


@dataclass(frozen=True)
class TimestampInfo:
    """The RFC 3161 timestamp token in the signature (PAdES-B-T)."""

    time: datetime
    authority: str
    intact: bool
    trusted: bool


@dataclass(frozen=True)
class VerificationResult:
    """What the verification panel and the « Vérifier un document » page show."""

    status: VerificationStatus
    file_sha256: str
    signed: bool = False
    intact: bool = False
    covers_whole_file: bool = False
    trusted: bool = False
    signer_name: str | None = None
    signer_organization: str | None = None
    signer_certificate_sha256: str | None = None
    signing_time: datetime | None = None  # as the signer states it (the timestamp's is attested)
    timestamp: TimestampInfo | None = None
    signed_revision_sha256: str | None = None
    signature_count: int = 0
    chain: tuple[str, ...] = ()  # common names from the signer up to the trusted root (when trusted)

    @property
    def is_valid(self) -> bool:
        return self.status is VerificationStatus.VALID

    @property
    def signer(self) -> str | None:
        return self.signer_name

    @property
    def signed_at(self) -> datetime | None:
        """When it was signed: the timestamp's time when a trusted one attests it, otherwise
        the time the signer states (verify/services.py's SignatureCheck reads these two)."""
        if self.timestamp is not None and self.timestamp.trusted and self.timestamp.intact:
            return self.timestamp.time
        return self.signing_time

    @property
    def unaltered(self) -> bool:
        """Unaltered since signing: the signature matches and nothing was added after it."""
        return self.intact and self.covers_whole_file


def verify(pdf: bytes, trust_roots: list[asn1_x509.Certificate], *,
           timestamp_trust_roots: list[asn1_x509.Certificate] | None = None,
           at: datetime | None = None) -> VerificationResult:
    """Verify the last signature of `pdf` against `trust_roots` (the schools' CAs).

    `timestamp_trust_roots` are the timestamp authorities' roots (default: `trust_roots`);
    `at` is the time of validation (default: now). When the certificate no longer validates
    at `at` (expired since) but a trusted timestamp attests the signing time, the chain is
    validated again at that time (PAdES-B-T). Never raises on bad input: the status says it.
    """
    file_sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        if reader.encrypted:
            return VerificationResult(VerificationStatus.UNREADABLE, file_sha256)
        signatures = reader.embedded_regular_signatures
    except Exception:  # noqa: BLE001 - a damaged upload raises anything from the parser: a verdict, never a 500
        return VerificationResult(VerificationStatus.UNREADABLE, file_sha256)
    if not signatures:
        return VerificationResult(VerificationStatus.UNSIGNED, file_sha256)
    embedded = signatures[-1]
    count = len(signatures)
    try:
        status = _validate(embedded, trust_roots, timestamp_trust_roots, at, at)
        if not status.trusted and status.timestamp_validity is not None and status.timestamp_validity.trusted:
            status = _validate(embedded, trust_roots, timestamp_trust_roots, status.timestamp_validity.timestamp, at)
    except Exception:  # noqa: BLE001 - a broken signature container is a broken signature
        return VerificationResult(VerificationStatus.ALTERED, file_sha256, signed=True, signature_count=count)
    return _result(pdf, embedded, status, file_sha256, count)


def check_signer_trusted(credentials: SigningCredentials, trust_roots: list[asn1_x509.Certificate],
                         at: datetime | None = None) -> None:
    """Raise SignerNotTrusted unless the school's certificate would verify as trusted at `at`
    (default now): a chain to `trust_roots` and a key usage that allows signing. Checked when
    the credentials are loaded, so a wrong root fails the first issue instead of every
    verification afterwards."""
    context = ValidationContext(trust_roots=list(trust_roots), other_certs=list(credentials.chain), moment=at,
                                allow_fetching=False)
    try:
        validator = CertificateValidator(credentials.certificate, validation_context=context)
        outside_any_event_loop(asyncio.run, validator.async_validate_path())
        KEY_USAGE.validate(credentials.certificate)
    except (PathError, ValidationError, ValueError):
        raise SignerNotTrusted() from None


def _validate(embedded, trust_roots, timestamp_trust_roots, moment: datetime | None,
              timestamp_moment: datetime | None) -> PdfSignatureStatus:
    signer_context = ValidationContext(trust_roots=list(trust_roots), moment=moment, allow_fetching=False)
    timestamp_context = ValidationContext(
        trust_roots=list(trust_roots if timestamp_trust_roots is None else timestamp_trust_roots),
        moment=timestamp_moment, allow_fetching=False)
    # The difference analysis is skipped: a VALID verdict requires whole-file coverage anyway.
    return outside_any_event_loop(validate_pdf_signature, embedded, signer_context, timestamp_context,
                                  key_usage_settings=KEY_USAGE, skip_diff=True)


def _result(pdf: bytes, embedded, status: PdfSignatureStatus, file_sha256: str, count: int) -> VerificationResult:
    certificate = status.signing_cert
    intact = bool(status.intact and status.valid)
    coverage = status.coverage
    covers_whole_file = coverage == SignatureCoverageLevel.ENTIRE_FILE
    revision_sha256 = None
    if coverage in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION):
        _, _, start, length = embedded.byte_range
        revision_sha256 = hashlib.sha256(pdf[: start + length]).hexdigest()
    timestamp = None
    if status.timestamp_validity is not None:
        token = status.timestamp_validity
        timestamp = TimestampInfo(
            time=token.timestamp, authority=subject_common_name(token.signing_cert),
            intact=bool(token.intact and token.valid), trusted=bool(token.trusted))
    if not intact or (timestamp is not None and not timestamp.intact):
        verdict = VerificationStatus.ALTERED
    elif not status.trusted:
        verdict = VerificationStatus.UNTRUSTED
    elif not covers_whole_file:
        verdict = VerificationStatus.MODIFIED
    else:
        verdict = VerificationStatus.VALID
    return VerificationResult(
        status=verdict,
        file_sha256=file_sha256,
        signed=True,
        intact=intact,
        covers_whole_file=covers_whole_file,
        trusted=bool(status.trusted),
        signer_name=subject_common_name(certificate),
        signer_organization=subject_organization(certificate),
        signer_certificate_sha256=certificate.sha256.hex(),
        signing_time=status.signer_reported_dt,
        timestamp=timestamp,
        signed_revision_sha256=revision_sha256,
        signature_count=count,
        chain=_chain(status, certificate),
    )


def _chain(status: PdfSignatureStatus, certificate: asn1_x509.Certificate) -> tuple[str, ...]:
    if not status.trusted or status.validation_path is None:  # a failed path is no chain to show
        return (subject_common_name(certificate),)
    return tuple(subject_common_name(cert) for cert in reversed(list(status.validation_path.iter_certs(True))))
