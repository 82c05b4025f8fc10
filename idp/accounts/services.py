"""Creating and finding accounts. No Flask here (design.md, Where code goes)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.errors import EmailAlreadyRegistered, InvalidEmail, InvalidName, InvalidPassword
from idp.accounts.models import User
from idp.clock import Clock
from idp.config import Settings
from idp.security.passwords import MAX_PASSWORD_LENGTH, PasswordHasher

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
        )
        self.session.add(user)
        self.session.flush()
        return user

    def find_by_email(self, email: str) -> User | None:
        """The account for this address in any letter case, or None (also for a malformed one)."""
        try:
            address = canonical_email(email)
        except InvalidEmail:
            return None
        return self.session.scalar(select(User).where(User.email == address))

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)
