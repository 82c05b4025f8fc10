"""Why a terms operation was refused. The CLI and views turn each into a message."""


class TermsError(Exception):
    """Base class of the terms feature's domain errors."""


class InvalidTermsVersion(TermsError):
    """A version name must be 1 to 32 letters, digits, dots, dashes or underscores."""


class TermsDocumentsMissing(TermsError):
    """The four documents of this version (terms and privacy, fr and en) do not all exist."""


class TermsVersionAlreadyPublished(TermsError):
    """This version was published already; publish a new version instead."""


class TermsVersionNotFound(TermsError):
    """No published version has this name."""


class NoTermsAvailable(TermsError):
    """No version is published and none is bundled with Passerelle."""


class TermsVersionChanged(TermsError):
    """A new version was published while the person was reading the previous one."""
