"""Why a share cannot be made, opened or changed: each becomes a translated message."""

from __future__ import annotations


class ShareError(Exception):
    """A share operation that did not happen."""


class DocumentNotFound(ShareError):
    """No document with that public id belongs to this learner (another's is not found either)."""


class DocumentWithdrawn(ShareError):
    """The school withdrew the document: it can no longer be shared."""


class InvalidExpiry(ShareError):
    """The lifetime asked for is outside 1 to 90 days."""


class ShareNotFound(ShareError):
    """No share with that id belongs to this learner."""


class ShareNotAvailable(ShareError):
    """The link is unknown, expired, revoked, locked or its document was withdrawn. One class
    for all of them on purpose: the third party must not learn which."""


class AccessCodeRequired(ShareError):
    """The share has an access code and none was given yet."""


class WrongAccessCode(ShareError):
    """The access code does not match; `remaining` tries are left before the share locks."""

    def __init__(self, remaining: int):
        super().__init__(remaining)
        self.remaining = remaining


class TooManyAttempts(ShareError):
    """This address failed too many share lookups or codes in the window: wait `retry_after`
    seconds (until the window ends)."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after
