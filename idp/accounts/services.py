"""Creating and finding accounts. No Flask here (design.md, Where code goes)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.errors import (
    AccountError,
    EmailAlreadyRegistered,
    InvalidEmail,
    InvalidName,
    InvalidPassword,
    WeakPassword,
)
from idp.accounts.models import User
from idp.clock import Clock
from idp.config import Settings
from idp.security.passwords import MAX_PASSWORD_LENGTH, PasswordHasher
from idp.security.password_policy import PasswordPolicy, PasswordProblem, personal_values
from idp.security.unicode_forms import normalize_password
from idp.security.pwned_passwords import PwnedPasswords

MAX_EMAIL_LENGTH = 320  # RFC 3696 errata 1690: 64 + 1 + 255
MAX_NAME_LENGTH = 200  # the users.given_name / family_name column width
# Deliberately plain: one "@", no spaces or controls, a dotted domain. Deliverability is
# proven by the activation mail, not by a regex.
_EMAIL_SHAPE = re.compile(r"^[^\s@]{1,64}@[^\s@]+\.[^\s@.]+$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def canonical_email(email: str) -> str:
    """The one form an address is stored and looked up in: stripped and lowercased.

    Raises InvalidEmail for CR/LF or other control characters (mail header injection,
    VAL-02), a missing or doubled "@", or an address longer than 320 characters.
    """
    if _CONTROL_CHARACTERS.search(email):
        raise InvalidEmail
    canonical = email.strip().lower()
    if len(canonical) > MAX_EMAIL_LENGTH or not _EMAIL_SHAPE.match(canonical):
        raise InvalidEmail
    return canonical


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or _CONTROL_CHARACTERS.search(cleaned):
        raise InvalidName
    return cleaned


class AccountService:
    """People's accounts: creation with a hashed password, lookup by address."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, passwords: PasswordHasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.passwords = passwords
        self._pwned: PwnedPasswords | None = None

    def create_user(
        self,
        email: str,
        given_name: str,
        family_name: str,
        plain_password: str,
        *,
        phone_number: str | None = None,
        email_verified: bool = True,
    ) -> User:
        """Create an account with an argon2id password hash and a random public subject.

        Raises InvalidEmail, InvalidName, InvalidPassword, or EmailAlreadyRegistered when the
        canonical address is taken (so "Ana@Example.ca" and "ana@example.ca" are one account).
        The password policy (length, breached lists) arrives with registration, issue 3.
        """
        address = canonical_email(email)
        if not plain_password or len(plain_password) > MAX_PASSWORD_LENGTH:
            raise InvalidPassword
        if self.find_by_email(address) is not None:
            raise EmailAlreadyRegistered
        now = self.clock()
        user = User(
            # 192 random bits: unguessable and never derived from the address, which may change.
            subject=secrets.token_urlsafe(24),
            email=address,
            email_verified=email_verified,
            given_name=_clean_name(given_name),
            family_name=_clean_name(family_name),
            phone_number=(phone_number or "").strip() or None,
            password_hash=self.passwords.hash(plain_password),
            created_at=now,
            updated_at=now,
            activated_at=now,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def create_pending_user(
        self,
        email: str,
        given_name: str,
        family_name: str,
        *,
        plain_password: str | None = None,
        phone_number: str | None = None,
        locale: str | None = None,
    ) -> User:
        """Create an account that cannot sign in until its registration completes (issue 3).

        activated_at stays None and the address unverified; the link journey gives no
        password yet (the person chooses it after proving the address), the code journey
        gives one, which the caller has checked against the policy. Raises InvalidEmail,
        InvalidName, InvalidPassword or EmailAlreadyRegistered, like create_user.
        """
        address = canonical_email(email)
        if plain_password is not None and (not plain_password or len(plain_password) > MAX_PASSWORD_LENGTH):
            raise InvalidPassword
        if self.find_by_email(address) is not None:
            raise EmailAlreadyRegistered
        now = self.clock()
        user = User(
            subject=secrets.token_urlsafe(24),
            email=address,
            email_verified=False,
            given_name=_clean_name(given_name),
            family_name=_clean_name(family_name),
            phone_number=(phone_number or "").strip() or None,
            locale=locale,
            password_hash=self.passwords.hash(plain_password) if plain_password is not None else None,
            created_at=now,
            updated_at=now,
            activated_at=None,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def update_pending_user(
        self,
        user: User,
        given_name: str,
        family_name: str,
        *,
        plain_password: str | None = None,
        phone_number: str | None = None,
        locale: str | None = None,
    ) -> None:
        """Replace a pending account's details with a newer registration form's (the person
        fixed a typo, or registered again before activating). Raises InvalidName or
        InvalidPassword; refuses (AccountError) to touch an account that is not pending."""
        if not user.is_pending:
            raise AccountError("only a pending account's details are replaced by a registration")
        if plain_password is not None and (not plain_password or len(plain_password) > MAX_PASSWORD_LENGTH):
            raise InvalidPassword
        user.given_name = _clean_name(given_name)
        user.family_name = _clean_name(family_name)
        if phone_number is not None:
            user.phone_number = phone_number.strip() or None
        if plain_password is not None:
            user.password_hash = self.passwords.hash(plain_password)
        if locale is not None:
            user.locale = locale
        user.updated_at = self.clock()
        self.session.flush()

    def activate(self, user: User) -> None:
        """End a pending registration: the address is proven and the person may sign in."""
        now = self.clock()
        user.activated_at = now
        user.email_verified = True
        user.updated_at = now
        self.session.flush()

    @property
    def password_policy(self) -> PasswordPolicy:
        return PasswordPolicy.from_settings(self.settings)

    def check_new_password(
        self, plain_password: str, *, email: str | None, given_name: str | None, family_name: str | None
    ) -> None:
        """Raise WeakPassword (with every problem) unless the password meets the policy.

        The person's address, its local part and names are what it must not contain (ASVS
        6.2.11), and feed the guessability estimate. When PASSWORD_PWNED_CHECK is on and
        every other rule holds, Pwned Passwords is asked too (BREACHED; fails open).
        create_user does not call this: registration does, before creating the account, so
        operator and test accounts keep their own passwords.
        """
        problems = self.password_policy.problems(
            plain_password or "", personal=personal_values(email, given_name, family_name)
        )
        if not problems and self.settings["PASSWORD_PWNED_CHECK"]:
            if self._pwned_passwords().is_breached(normalize_password(plain_password)):
                problems = [PasswordProblem.BREACHED]
        if problems:
            raise WeakPassword(problems)

    def _pwned_passwords(self) -> PwnedPasswords:
        """One checker per service: the form's check and set_password's ask the service once."""
        if self._pwned is None:
            self._pwned = PwnedPasswords(
                self.settings["PASSWORD_PWNED_URL"], timeout=float(self.settings["PASSWORD_PWNED_TIMEOUT"])
            )
        return self._pwned

    def set_password(self, user: User, plain_password: str) -> None:
        """Give the account a new password that meets the policy. Raises WeakPassword.

        Callers decide what else a change means (ending other sessions, a notification,
        a security event); this only checks, hashes and stamps updated_at.
        """
        self.check_new_password(
            plain_password, email=user.email, given_name=user.given_name, family_name=user.family_name
        )
        user.password_hash = self.passwords.hash(plain_password)
        user.updated_at = self.clock()
        self.session.flush()

    def find_by_email(self, email: str) -> User | None:
        """The account for this address in any letter case, or None (also for a malformed one)."""
        try:
            address = canonical_email(email)
        except InvalidEmail:
            return None
        return self.session.scalar(select(User).where(User.email == address))

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)
