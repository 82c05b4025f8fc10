"""Why an uploaded PDF cannot be checked: each becomes a translated message on the page."""

from __future__ import annotations


class VerifyError(Exception):
    """The file given to « Vérifier un document » could not be checked."""


class NoFile(VerifyError):
    """No file, or an empty one."""


class FileTooLarge(VerifyError):
    """The file is larger than the page accepts (PORTAL_VERIFY_MAX_BYTES)."""


class NotAPdf(VerifyError):
    """The file is not a PDF (it does not start with %PDF- or cannot be read as one)."""


class UnreadablePdf(VerifyError):
    """The file calls itself a PDF but cannot be read: damaged, or encrypted."""
