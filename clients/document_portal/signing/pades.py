"""Sign a PDF for a school: a PAdES signature (pyHanko), B-B, or B-T with an RFC 3161 token.

The signature is an invisible approval signature (/SubFilter /ETSI.CAdES.detached), added
as an incremental update, with the signer's name, the reason and the location in the
signature dictionary: what a PDF reader's signature panel shows. The signing time in the
CMS signed attributes comes from the injected clock. Nothing is fetched while signing (no
revocation look-ups); with a timestamp authority configured, one HTTP request is made to
it, and when it fails the PDF is not signed at all (TimestampUnavailable) rather than
quietly signed without the timestamp the operator asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

from clients.document_portal.signing.credentials import SigningCredentials
from clients.document_portal.signing.errors import SigningError, TimestampUnavailable
from clients.document_portal.signing.event_loop import outside_any_event_loop

DIGEST = "sha256"
# The new signature field's name: PortalSignature1, or the next number free in the upload.
FIELD_NAME = "PortalSignature"


@functools.lru_cache(maxsize=8)
def make_timestamper(url: str | None, timeout: float = 10) -> TimeStamper | None:
    """pyHanko's RFC 3161 client for DOCUMENT_PORTAL_TSA_URL (None when none is configured).

    One client per URL and process (hence the cache): it keeps the authority's first answer,
    from which every later signature's size is estimated without another request."""
    return RequestsHTTPTimeStamper(url, timeout=timeout) if url else None


def sign_pdf(pdf: bytes, credentials: SigningCredentials, *, reason: str, location: str | None = None,
             contact: str | None = None, timestamper: TimeStamper | None = None,
             clock: Callable[[], datetime] | None = None) -> bytes:
    """The PDF with the school's PAdES signature appended. Returns the signed bytes.

    `pdf` must have passed intake.check_pdf. The signer's name is the certificate's common
    name. Raises TimestampUnavailable when the timestamp authority fails, SigningError when
    pyHanko refuses the document.
    """
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
        existing = {name for name, _, _ in fields.enumerate_sig_fields(writer)}
    except Exception as error:  # intake parsed it, so this is an unchecked upload or a bug
        raise SigningError("pyHanko cannot read the document") from error
    metadata = signers.PdfSignatureMetadata(
        field_name=next(f"{FIELD_NAME}{n}" for n in range(1, len(existing) + 2) if f"{FIELD_NAME}{n}" not in existing),
        md_algorithm=DIGEST,
        subfilter=fields.SigSeedSubFilter.PADES,
        name=credentials.subject_name,
        reason=reason,
        location=location,
        contact_info=contact,
    )
    signer = _ClockedPdfSigner(metadata, credentials.signer, timestamper=timestamper,
                               clock=clock or (lambda: datetime.now(UTC)))
    try:
        output = outside_any_event_loop(signer.sign_pdf, writer,
                                        bytes_reserved=_reservation(credentials, timestamper))
    except TimestampRequestError:
        raise TimestampUnavailable() from None
    except PyHankoSigningError as error:
        if isinstance(error.__cause__, TimestampRequestError):
            raise TimestampUnavailable() from None
        raise SigningError("pyHanko refused to sign the document") from error
    return output.getvalue()


def _reservation(credentials: SigningCredentials, timestamper: TimeStamper | None) -> int | None:
    """Room for the CMS container: computed without a timestamp (pyHanko's estimate makes a
    dummy signature, which doubled the cost of signing); with one, pyHanko estimates from
    the authority's first answer, which the timestamper keeps (make_timestamper's cache)."""
    if timestamper is not None:
        return None
    certificates = sum(len(certificate.dump()) for certificate in (credentials.certificate, *credentials.chain))
    return 4096 + certificates + certificates % 2  # pyHanko wants an even number of bytes


class _ClockedPdfSigner(signers.PdfSigner):
    """PdfSigner whose signing time comes from our clock instead of the system's."""

    def __init__(self, *args, clock: Callable[[], datetime], **kwargs):
        super().__init__(*args, **kwargs)
        self._clock = clock

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._clock()
        return session
