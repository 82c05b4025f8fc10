"""Why a registration step was refused. Views map each class to a translated message."""

from __future__ import annotations


class RegistrationError(Exception):
    """Base class of the registration feature's domain errors."""


class InvalidPhoneNumber(RegistrationError):
    """The phone number cannot be read as a valid number (phonenumbers), even as a local one."""


class ActivationLinkInvalid(RegistrationError):
    """No registration has this activation token (mistyped, cut, or replaced by a newer one)."""


class ActivationLinkExpired(RegistrationError):
    """The activation link was not confirmed within REGISTRATION_ACTIVATION_TTL."""


class ActivationLinkUsed(RegistrationError):
    """The activation link was already confirmed once (single use, PW-09)."""


class AccountAlreadyActive(RegistrationError):
    """The registration's account is already active: the person should sign in."""


class RegistrationStepExpired(RegistrationError):
    """The browser's handle names no registration waiting for this step (absent, unknown,
    expired, or the registration is complete)."""


class InvalidVerificationCode(RegistrationError):
    """The emailed code is wrong, expired or burned, or no registration waits for this
    address: one error for all, so the answer never says whether an address registered."""


class CodeResendTooSoon(RegistrationError):
    """A new verification code was asked for within the cooldown; seconds says how long to wait."""

    def __init__(self, seconds: int):
        super().__init__(f"wait {seconds} s")
        self.seconds = seconds


class InvitationNoLongerValid(RegistrationError):
    """The invitation was revoked, expired or used elsewhere before the registration finished.

    reason is the invitations error's class name, for the page to say which.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
