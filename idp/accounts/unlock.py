"""Ending a lock that waits for an unlock: the emailed link and the operators' command.

After SIGNIN_TEMPORARY_LOCKS temporary locks in a row the next one lasts until the person
follows the unlock link emailed with it, or an operator runs `idp users unlock EMAIL`
(issue 9; idp/accounts/throttle.py decides when). The link is built like a password reset
link (idp/recovery): a 256-bit token that only the email holds, its keyed hash at rest,
single use, an expiry, a newer link replacing older ones, and opening it spends nothing
(mail scanners open links): a POST does. Unlocking never signs anybody in: the person then
signs in with their password and second factor as usual. No Flask here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.errors import (
    InvalidEmail,
    UnknownAccount,
    UnlockLinkExpired,
    UnlockLinkReplaced,
    UnlockLinkUnknown,
    UnlockLinkUsed,
)
from idp.accounts.models import UnlockLink, User
from idp.accounts.services import canonical_email
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.security.secrets import KeyedHasher, new_token

UNLOCK_PURPOSE = "account-unlock"
# The unlock page (idp/accounts/unlock_views.py); mail links are built from OIDC_ISSUER,
# never from the request's Host header (link poisoning, REC-04).
UNLOCK_PATH = "/signin/unlock"
MAX_TOKEN_LENGTH = 128


def clear_lock(user: User) -> None:
    """Forget every failure, delay and lock of this account: the count starts from zero."""
    user.failed_signin_count = 0
    user.locked_until = None
    user.signin_lock_count = 0
    user.unlock_required_at = None


class UnlockService:
    """Issues unlock links and ends locks, by link or by an operator."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher

    @property
    def link_ttl(self) -> timedelta:
        return timedelta(seconds=int(self.settings.SIGNIN_UNLOCK_LINK_TTL))

    def link_url(self, plain_token: str) -> str:
        return f"{self.settings.OIDC_ISSUER}{UNLOCK_PATH}/{plain_token}"

    def issue_link(self, user: User) -> str:
        """A new unlock link for this account; returns its plain token (only ever in the
        email). Every older unused link stops working."""
        now = self.clock()
        self._revoke_links(user.id)
        plain_token = new_token()
        self.session.add(
            UnlockLink(
                user_id=user.id,
                token_hash=self.hasher.hash(UNLOCK_PURPOSE, plain_token),
                email=user.email,
                created_at=now,
                expires_at=now + self.link_ttl,
            )
        )
        self.session.flush()
        return plain_token

    def find_link(self, plain_token: str | None) -> tuple[UnlockLink, User]:
        """The usable link for this token and its account; opening a link spends nothing.
        Raises an UnlockLinkInvalid subclass."""
        if not plain_token or len(plain_token) > MAX_TOKEN_LENGTH:
            raise UnlockLinkUnknown
        link = self.session.scalar(
            select(UnlockLink).where(UnlockLink.token_hash == self.hasher.hash(UNLOCK_PURPOSE, plain_token))
        )
        if link is None:
            raise UnlockLinkUnknown
        if link.used_at is not None:
            raise UnlockLinkUsed
        if link.revoked_at is not None:
            raise UnlockLinkReplaced
        if link.expires_at <= self.clock():
            raise UnlockLinkExpired
        user = self.session.get(User, link.user_id)
        if user is None or user.email != link.email:
            raise UnlockLinkUnknown
        return link, user

    def unlock_with_link(
        self, plain_token: str | None, *, ip_address: str | None = None, user_agent: str | None = None
    ) -> User:
        """Spend the link and end the account's lock; returns the account. Raises an
        UnlockLinkInvalid subclass; of two concurrent submissions exactly one wins (a
        conditional UPDATE)."""
        link, user = self.find_link(plain_token)
        now = self.clock()
        spent = self.session.execute(
            update(UnlockLink)
            .where(
                UnlockLink.id == link.id,
                UnlockLink.used_at.is_(None),
                UnlockLink.revoked_at.is_(None),
                UnlockLink.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:
            raise UnlockLinkUsed
        self.session.expire(link)
        self._unlock(user, by="link", ip_address=ip_address, user_agent=user_agent)
        return user

    def unlock_by_operator(self, email: str) -> tuple[User, bool]:
        """End the lock of the account at this address (`idp users unlock`); returns it and
        whether it was waiting for an unlock. Raises UnknownAccount."""
        try:
            address = canonical_email(email)
        except InvalidEmail:
            raise UnknownAccount from None
        user = self.session.scalar(select(User).where(User.email == address))
        if user is None:
            raise UnknownAccount
        was_waiting = user.unlock_required_at is not None
        self._unlock(user, by="operator")
        return user, was_waiting

    def unlock_by_agent(self, user: User, *, agent_id: int, reason: str) -> None:
        """End the lock from the operators' console (idp.console): the event names the agent
        and the reason they typed."""
        self._unlock(user, by="console", agent_id=agent_id, reason=reason)

    def _unlock(self, user: User, *, by: str, ip_address: str | None = None, user_agent: str | None = None,
                **details) -> None:
        clear_lock(user)
        self._revoke_links(user.id)
        record_event(
            self.session, self.clock, EventTag.ACCOUNT_UNLOCKED, user_id=user.id,
            ip_address=ip_address, user_agent=user_agent, by=by, **details,
        )
        self.session.flush()

    def _revoke_links(self, user_id: int) -> None:
        self.session.execute(
            update(UnlockLink)
            .where(UnlockLink.user_id == user_id, UnlockLink.used_at.is_(None), UnlockLink.revoked_at.is_(None))
            .values(revoked_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        for loaded in list(self.session.identity_map.values()):
            if isinstance(loaded, UnlockLink) and loaded.user_id == user_id:
                self.session.expire(loaded)
