"""Why a PDF cannot be taken in, signed or a signer loaded: classes the views translate.

No message here ever carries a password, a key or a path's contents: the classes say what
went wrong, the views (and the logs) say it in words. Intake refusals carry a reason code
(`RefusalReason`) that the views map to a translated sentence.
"""

from __future__ import annotations

from enum import StrEnum


class SigningError(Exception):
    """Something in clients/document_portal/signing did not happen."""


class RefusalReason(StrEnum):
    """Why an uploaded PDF is refused (docs/document-portal.md, What intake refuses)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_PDF = "not_pdf"
    UNPARSEABLE = "unparseable"
    ENCRYPTED = "encrypted"
    JAVASCRIPT = "javascript"
    EMBEDDED_FILES = "embedded_files"
    ACTIVE_CONTENT = "active_content"


class PdfRefused(SigningError):
    """The upload is not a PDF the portal will sign; `reason` says why (a RefusalReason)."""

    def __init__(self, reason: RefusalReason):
        super().__init__(reason.value)
        self.reason = reason


class CredentialsError(SigningError):
    """A school's signing key and certificate could not be loaded."""


class PasswordMissing(CredentialsError):
    """The environment variable (or file) that should hold the password is unset or empty."""


class WrongPassword(CredentialsError):
    """The password does not open the PKCS#12 file or the encrypted private key."""


class CredentialsUnreadable(CredentialsError):
    """The file is missing, unreadable, or neither PKCS#12 nor PEM."""


class CredentialsIncomplete(CredentialsError):
    """No private key, no certificate, or a key that does not match the certificate."""


class SignerNotTrusted(CredentialsError):
    """The certificate does not chain to a trust root, has expired, or does not allow signing:
    every document it signed would be reported untrusted, so it signs none."""


class SignerConfigError(SigningError):
    """DOCUMENT_PORTAL_SIGNERS or the trust roots are wrong: the message names the setting."""


class NoSignerForOrganization(SigningError):
    """No signing certificate is configured for this issuing organization."""


class TimestampUnavailable(SigningError):
    """A timestamp authority is configured but did not answer with a valid token: the PDF is
    not signed rather than signed without the timestamp the operator asked for."""
