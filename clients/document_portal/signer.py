"""The app's one handle on signing/ (dp-signing's services): checks an upload, renders a
transcript, signs with the issuing school's credentials (loaded once, on first use, with
the password from the environment) and verifies against the configured trust roots. It
composes signing/'s functions and adds no cryptography. No Flask."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from clients.document_portal.signing.credentials import (
    SigningCredentials,
    load_certificates,
)
from clients.document_portal.signing.intake import check_pdf
from clients.document_portal.signing.pades import make_timestamper, sign_pdf
from clients.document_portal.signing.settings import SigningSettings, load_signer
from clients.document_portal.signing.transcript import TranscriptData, render_transcript
from clients.document_portal.signing.verification import VerificationResult, verify


class Signer:
    def __init__(self, settings: SigningSettings, environ: Mapping[str, str], clock: Callable[[], datetime]):
        self.settings = settings
        self._environ = environ
        self._clock = clock
        self._credentials: dict[str, SigningCredentials] = {}
        self._lock = threading.Lock()
        self.trust_roots = [cert for path in settings.trust_roots for cert in load_certificates(path.read_bytes())]
        self.tsa_trust_roots = [cert for path in settings.tsa_trust_roots
                                for cert in load_certificates(path.read_bytes())] or None

    def check(self, data: bytes) -> None:
        """Raises signing.errors.PdfRefused with the reason."""
        check_pdf(data, self.settings.max_pdf_bytes)

    def render_transcript(self, data: TranscriptData, locale: str) -> bytes:
        return render_transcript(data, locale)

    def can_sign_for(self, organization_number: str | None) -> bool:
        return bool(organization_number) and organization_number in self.settings.signers

    def sign(self, pdf: bytes, organization_number: str, *, reason: str) -> bytes:
        """The PDF signed with the school's certificate. Raises NoSignerForOrganization,
        CredentialsError (SignerNotTrusted among them), TimestampUnavailable or SigningError."""
        config = self.settings.signer_for(organization_number)
        with self._lock:
            if organization_number not in self._credentials:
                # Checked against the trust roots once, when loaded: a wrong root or an expired
                # certificate stops the first issue rather than every document verifying untrusted.
                self._credentials[organization_number] = load_signer(
                    config, self._environ, trust_roots=self.trust_roots or None, at=self._clock())
            credentials = self._credentials[organization_number]
        return sign_pdf(pdf, credentials, reason=reason, location=config.location, contact=config.contact,
                        timestamper=make_timestamper(self.settings.tsa_url, self.settings.tsa_timeout),
                        clock=self._clock)

    def verify(self, pdf: bytes) -> VerificationResult:
        return verify(pdf, self.trust_roots, timestamp_trust_roots=self.tsa_trust_roots, at=self._clock())
