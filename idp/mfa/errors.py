"""Why a second-factor step was refused. Views map each class to a translated message."""

from __future__ import annotations


class MfaError(Exception):
    """Base class of the second-factor feature's domain errors."""


class InvalidCode(MfaError):
    """Wrong code, or one already used: deliberately one error (ENUM-03)."""


class CodeExpired(MfaError):
    """The code's lifetime (MFA_EMAIL_CODE_TTL) is over: request a new one."""


class CodeNotDelivered(MfaError):
    """The code expired before its email could be sent (the relay was down or slow): the
    message was dropped (idp.mail), so the person must request a new one."""


class CodeAttemptsExhausted(MfaError):
    """Too many wrong tries at this code: it is burned, request a new one."""


class NoLiveCode(MfaError):
    """No code is waiting for this sign-in (never sent, replaced, or burned)."""


class ResendTooSoon(MfaError):
    """A code was sent less than MFA_EMAIL_CODE_RESEND_COOLDOWN seconds ago."""

    def __init__(self, seconds_left: int):
        super().__init__(seconds_left)
        self.seconds_left = seconds_left


class DailyCodeLimitReached(MfaError):
    """MFA_EMAIL_CODE_DAILY_CAP codes were sent to this account in the last 24 hours."""


class AttemptTooEarly(MfaError):
    """The account's failure throttle refuses attempts for a few seconds (progressive delay)."""


class AccountLocked(MfaError):
    """Repeated failures locked the account for a while; the person was told by email."""


class FactorNotAvailable(MfaError):
    """The factor asked for is not enrolled for this person."""


class CodeNotSent(MfaError):
    """The mail caps refused the message (too many emails to this address recently)."""


# Security keys and passkeys (idp/mfa/security_key.py).


class SecurityKeyRejected(MfaError):
    """The key's answer did not verify: malformed, another site's origin, wrong RP id or
    signature, or made for another challenge. One error: the page says "try again"."""


class ChallengeNotFound(MfaError):
    """No live challenge matches the answer: expired, already used (a replay), or never
    issued for this sign-in."""


class UnknownSecurityKey(MfaError):
    """The key used is not registered to this account."""


class SecurityKeyCloned(MfaError):
    """The key's signature counter went backwards: it may have been copied."""


class SecurityKeyAlreadyRegistered(MfaError):
    """This key is already registered (to this account or another one)."""


class LastMethod(MfaError):
    """Removing this method would leave the account without two-factor."""
