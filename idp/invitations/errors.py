"""Why an invitation operation was refused. Views map each class to a translated message."""

from __future__ import annotations


class InvitationError(Exception):
    """Base class of the invitations feature's domain errors."""


class InvitationNotFound(InvitationError):
    """No invitation for this link or code, or (codes) the code does not go with this address.

    A wrong code and a right code with the wrong address raise the same error, so that a
    guessed code cannot be confirmed without also knowing the address it was sent to.
    """


class InvitationExpired(InvitationError):
    """The invitation was not used before expires_at."""


class InvitationRevoked(InvitationError):
    """Its creator (or an operator) revoked the invitation."""


class InvitationAlreadyUsed(InvitationError):
    """A registration already consumed the invitation (single use)."""


class InvitationEmailMismatch(InvitationError):
    """The address typed in the registration form is not the invited one.

    Only for the link journey, where the person already holds the secret link: telling them
    that the address differs reveals nothing they could not read in their own mail.
    """


class InvalidInvitation(InvitationError):
    """A value given to create an invitation is malformed; `field` names which one."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
