"""Server-side sessions behind the IdP's session cookie. No Flask here (design.md, Where code goes).

The browser holds a random handle; the database keeps its keyed hash (design.md, Data at
rest), so a database dump cannot be replayed as a cookie.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.clock import Clock
from idp.config import Settings
from idp.logout.services import LogoutService
from idp.security.secrets import KeyedHasher
from idp.signin.models import UserSession
from idp.signin.services import new_handle

SESSION_PURPOSE = "session"
# last_seen_at is written at most this often, so reading a session is usually write-free.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class SessionService:
    """Server-side sessions behind the IdP's session cookie (ASVS 7.4.1, NIST SP 800-63B §7.1)."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher

    def create(
        self,
        user_id: int,
        amr: list[str],
        acr: str,
        auth_time: datetime,
        user_agent: str | None,
    ) -> tuple[UserSession, str]:
        """Start a session; returns it with the plain handle for the cookie (never stored)."""
        now = self.clock()
        plain_handle = new_handle()
        user_session = UserSession(
            handle_hash=self.hasher.hash(SESSION_PURPOSE, plain_handle),
            sid=secrets.token_urlsafe(16),
            user_id=user_id,
            auth_time=auth_time,
            amr=list(amr),
            acr=acr,
            created_at=now,
            last_seen_at=now,
            # The absolute limit counts from authentication, whatever the activity (SES-04).
            expires_at=auth_time + timedelta(seconds=self.settings.SESSION_MAX_AGE),
            user_agent=(user_agent or "")[:512] or None,
        )
        self.session.add(user_session)
        self.session.flush()
        return user_session, plain_handle

    def find_active(self, plain_handle: str | None) -> UserSession | None:
        """The live session for this handle, or None when unknown, ended, idle too long,
        past its absolute limit, or its user is disabled (SES-02, SES-04, SES-05).

        Notes activity in last_seen_at at most once a minute, unflushed: the caller sees the
        row modified and commits it.
        """
        if not plain_handle:
            return None
        user_session = self.session.scalar(
            select(UserSession).where(UserSession.handle_hash == self.hasher.hash(SESSION_PURPOSE, plain_handle))
        )
        if user_session is None or not self.is_alive(user_session):
            return None
        user = self.session.get(User, user_session.user_id)
        if user is None or not user.is_active:
            return None
        now = self.clock()
        if now - user_session.last_seen_at >= LAST_SEEN_RESOLUTION:
            user_session.last_seen_at = now
        return user_session

    def is_alive(self, user_session: UserSession) -> bool:
        now = self.clock()
        idle_limit = timedelta(seconds=self.settings.SESSION_IDLE_TIMEOUT)
        return (
            user_session.ended_at is None
            and now < user_session.expires_at
            and now - user_session.last_seen_at < idle_limit
        )

    def end(self, session_id: int, *, notify: bool = True) -> None:
        """End one session now; its cookie stops working at once (SES-02). The relying
        parties it signed into are told (back-channel logout, queued for `idp worker`) unless
        notify is False: the same person's new session takes them over (hand_over_grants)."""
        ended = self._end(UserSession.id == session_id)
        if ended and notify:
            LogoutService(self.session, self.settings, self.clock).enqueue(ended)

    def end_all_for_user(self, user_id: int, *, except_session_id: int | None = None) -> int:
        """End every live session of a user but except_session_id (disabling, password
        change, « Se déconnecter partout »), telling the relying parties each signed into;
        returns how many. idp.oidc.revocation.end_all_access also ends the grants."""
        ended = self._end(UserSession.user_id == user_id, UserSession.id != except_session_id)
        LogoutService(self.session, self.settings, self.clock).enqueue(ended)
        return len(ended)

    def _end(self, *conditions) -> list[int]:
        """End the sessions matching conditions that have not ended yet; returns their ids.
        One conditional UPDATE, so a session two requests end at once is ended (and its
        relying parties told) once."""
        ended = list(self.session.scalars(
            update(UserSession)
            .where(UserSession.ended_at.is_(None), *conditions)
            .values(ended_at=self.clock())
            .returning(UserSession.id)
            .execution_options(synchronize_session=False)
        ))
        # The UPDATE bypassed the identity map: reload any of these sessions already loaded.
        for loaded in list(self.session.identity_map.values()):
            if isinstance(loaded, UserSession) and loaded.id in ended:
                self.session.expire(loaded, ["ended_at"])
        return ended
