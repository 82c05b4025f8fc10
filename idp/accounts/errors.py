"""Why an account operation was refused. Views map each class to a translated message."""

from __future__ import annotations

from idp.security.password_policy import PasswordProblem


class AccountError(Exception):
    """Base class of the accounts feature's domain errors."""


class InvalidEmail(AccountError):
    """The address is not one we can store and send mail to (shape, length, CR/LF)."""


class EmailAlreadyRegistered(AccountError):
    """Another account already uses this address in its canonical form (ASVS 2.1.1)."""


class InvalidName(AccountError):
    """A given or family name is empty, too long or holds control characters."""


class InvalidPassword(AccountError):
    """The password is empty or longer than we hash (MAX_PASSWORD_LENGTH, VAL-03)."""


class WeakPassword(AccountError):
    """A new password breaks the password policy; problems says which rules, in checklist
    order, so each gets its own message (idp/accounts/password_text.py)."""

    def __init__(self, problems: list[PasswordProblem]):
        super().__init__(", ".join(problems))
        self.problems = list(problems)


class IncorrectCurrentPassword(AccountError):
    """Changing the password needs the current one, and this is not it (ASVS 6.2.3)."""


class TooManyPasswordAttempts(AccountError):
    """The account is waiting out a delay or a lock after failed attempts (idp/accounts/
    throttle.py): the current password is not even checked until it ends (RATE-01)."""


class UnknownAccount(AccountError):
    """No account has this address (the operators' commands)."""


class UnlockLinkInvalid(AccountError):
    """An unlock link that cannot be used; each subclass says why (the page tells the person)."""


class UnlockLinkUnknown(UnlockLinkInvalid):
    """No link has this token (cut or mistyped), or its account's address changed since."""


class UnlockLinkExpired(UnlockLinkInvalid):
    """The link is older than SIGNIN_UNLOCK_LINK_TTL."""


class UnlockLinkUsed(UnlockLinkInvalid):
    """The link already unlocked the account once (single use)."""


class UnlockLinkReplaced(UnlockLinkInvalid):
    """A newer unlock link was sent after this one; only the newest works."""
