"""Why a recovery step was refused. Views map each class to a translated message."""

from __future__ import annotations


class RecoveryError(Exception):
    """Base class of the recovery feature's domain errors."""


class ResetLinkInvalid(RecoveryError):
    """The reset link cannot be used. Only its holder sees which subclass, so telling them
    apart reveals nothing about other accounts; it tells the person what to do next."""


class ResetLinkUnknown(ResetLinkInvalid):
    """No link has this token (mistyped, truncated by a mail client), or its account is gone,
    disabled, or no longer uses the address the link was sent to."""


class ResetLinkExpired(ResetLinkInvalid):
    """The link is older than PASSWORD_RESET_TTL."""


class ResetLinkUsed(ResetLinkInvalid):
    """The link already changed a password (single use, REC-06: the loser of a race)."""


class ResetLinkReplaced(ResetLinkInvalid):
    """A newer link was sent, or the password changed since: only the newest link works
    (keycloak/keycloak#40631)."""
