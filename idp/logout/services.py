"""Single sign-out without Flask (design.md, Where code goes): remember which relying
parties a session signed into, queue a back-channel logout delivery for each when the
session ends, find sessions that expired unnoticed, and keep the record of every attempt.

Every way a session ends goes through SessionService.end or end_all_for_user (a sign-out
here or from a relying party, « Se déconnecter partout », an operator, a password change or
reset, a disabled account), which call enqueue(); expiry has no event, so `idp worker`
calls end_expired_sessions(). Nothing here sends: idp.logout.delivery does, in the worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.clock import Clock
from idp.config import Settings
from idp.logout.models import (
    DeliveryState,
    LogoutAttempt,
    LogoutDelivery,
    SessionClient,
)
from idp.logout.tokens import Outcome, decide
from idp.oidc.claims import subject_for
from idp.oidc.models import Client
from idp.signin.models import UserSession

# A claimed delivery is left alone this long beyond the HTTP timeout, in case its worker died.
CLAIM_MARGIN = timedelta(seconds=30)


class LogoutService:
    """Never commits: the caller (a view, the worker, the CLI) owns the transaction."""

    def __init__(self, session: Session, settings: Settings, clock: Clock):
        self.session = session
        self.settings = settings
        self.clock = clock

    # Which relying parties a session signed into ------------------------------------------

    def remember_client(self, session_id: int, client_id: str, sid: str) -> None:
        """The session gave this client a code (so ID tokens with this sid): remember it once."""
        known = select(SessionClient.id).where(
            SessionClient.session_id == session_id, SessionClient.client_id == client_id, SessionClient.sid == sid)
        if self.session.scalar(known) is not None:
            return
        try:
            with self.session.begin_nested():
                self.session.add(SessionClient(session_id=session_id, client_id=client_id, sid=sid,
                                               signed_in_at=self.clock()))
        except IntegrityError:
            pass  # a concurrent code for the same client and session recorded it first

    def hand_over(self, old_session_id: int, new_session_id: int) -> None:
        """The same person's new session replaces the old one: its relying parties stay
        connected (with the sid they know), so they hear when the new one ends."""
        self.session.execute(
            update(SessionClient).where(SessionClient.session_id == old_session_id)
            .values(session_id=new_session_id).execution_options(synchronize_session=False))

    def connected_clients(self, session_id: int) -> list[Client]:
        """The relying parties this session signed into, by name (the account page)."""
        return list(self.session.scalars(
            select(Client).where(Client.client_id.in_(
                select(SessionClient.client_id).where(SessionClient.session_id == session_id)))
            .order_by(Client.name, Client.id)))

    def frontchannel_logout_urls(self, session_id: int, issuer: str) -> list[str]:
        """Front-Channel Logout 1.0 §2-3: each connected client's frontchannel_logout_uri,
        with `iss` and `sid` added when it asked for them (session required)."""
        rows = self.session.execute(
            select(Client.frontchannel_logout_uri, Client.frontchannel_logout_session_required, SessionClient.sid)
            .join(SessionClient, SessionClient.client_id == Client.client_id)
            .where(SessionClient.session_id == session_id, Client.frontchannel_logout_uri.is_not(None))
            .order_by(SessionClient.id))
        urls = []
        for uri, session_required, sid in rows:
            if session_required:
                uri += ("&" if urlsplit(uri).query else "?") + urlencode({"iss": issuer, "sid": sid})
            if uri not in urls:
                urls.append(uri)
        return urls

    # Queuing ----------------------------------------------------------------------------

    def enqueue(self, session_ids: Iterable[int]) -> int:
        """These sessions just ended: queue one delivery per client with a
        backchannel_logout_uri that each signed into (per sid it knows). Returns how many."""
        ids = list(session_ids)
        if not ids:
            return 0
        rows = self.session.execute(
            select(Client, SessionClient.sid, User)
            .join(SessionClient, SessionClient.client_id == Client.client_id)
            .join(UserSession, UserSession.id == SessionClient.session_id)
            .join(User, User.id == UserSession.user_id)
            .where(SessionClient.session_id.in_(ids), Client.backchannel_logout_uri.is_not(None))
            .order_by(SessionClient.id)).all()
        now = self.clock()
        seen = set()
        for client, sid, user in rows:
            if (client.client_id, sid) in seen:
                continue
            seen.add((client.client_id, sid))
            self.session.add(LogoutDelivery(
                client_id=client.client_id, uri=client.backchannel_logout_uri, user_id=user.id,
                subject=subject_for(client.subject_type, client.sector_identifier, user.subject,
                                    self.settings.OIDC_PAIRWISE_SALT),
                sid=sid, created_at=now, next_attempt_at=now, attempts=0, state=DeliveryState.QUEUED))
        self.session.flush()
        return len(seen)

    def end_expired_sessions(self, limit: int = 500) -> int:
        """Sessions that died of idleness or age (no event marks that) and had signed into a
        relying party: end them and queue their deliveries. Returns how many ended."""
        now = self.clock()
        idle_since = now - timedelta(seconds=self.settings.SESSION_IDLE_TIMEOUT)
        dead = (
            select(UserSession.id)
            .where(UserSession.ended_at.is_(None),
                   or_(UserSession.expires_at <= now, UserSession.last_seen_at <= idle_since),
                   exists().where(SessionClient.session_id == UserSession.id))
            .order_by(UserSession.id).limit(limit))
        candidates = list(self.session.scalars(dead))
        if not candidates:
            return 0
        # Conditional: a session another worker or a request ended meanwhile is not queued twice.
        ended = list(self.session.scalars(
            update(UserSession).where(UserSession.id.in_(candidates), UserSession.ended_at.is_(None))
            .values(ended_at=now).returning(UserSession.id).execution_options(synchronize_session=False)))
        self.enqueue(ended)
        return len(ended)

    # Sending (the worker) ---------------------------------------------------------------

    def _due(self):
        return (select(LogoutDelivery.id)
                .where(LogoutDelivery.state == DeliveryState.QUEUED, LogoutDelivery.next_attempt_at <= self.clock())
                .order_by(LogoutDelivery.id))

    def claim_next(self) -> LogoutDelivery | None:
        """Take the oldest due delivery for one attempt, or None. On PostgreSQL the row is
        picked FOR UPDATE SKIP LOCKED, so workers on several hosts each take another one."""
        delivery_id = self.session.scalar(self._due().limit(1).with_for_update(skip_locked=True))
        return None if delivery_id is None else self.claim(delivery_id)

    def claim(self, delivery_id: int) -> LogoutDelivery | None:
        """One conditional UPDATE: counts the attempt and leases the row past the HTTP
        timeout, so two workers never both send it. None if it is not due any more."""
        now = self.clock()
        lease = timedelta(seconds=self.settings.LOGOUT_TIMEOUT) + CLAIM_MARGIN
        result = self.session.execute(
            update(LogoutDelivery)
            .where(LogoutDelivery.id == delivery_id, LogoutDelivery.state == DeliveryState.QUEUED,
                   LogoutDelivery.next_attempt_at <= now)
            .values(attempts=LogoutDelivery.attempts + 1, next_attempt_at=now + lease)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        delivery = self.session.get(LogoutDelivery, delivery_id)
        self.session.refresh(delivery)
        return delivery

    def record_attempt(self, delivery: LogoutDelivery, status: int | None, error: str | None,
                       duration_ms: int, *, permanent: bool = False) -> Outcome:
        """Keep the attempt and decide what follows (idp.logout.tokens.decide); permanent:
        give up now (the client is gone)."""
        now = self.clock()
        outcome = Outcome("failed") if permanent else decide(
            status, attempt=delivery.attempts, max_attempts=self.settings.LOGOUT_MAX_ATTEMPTS, now=now,
            base_delay=self.settings.LOGOUT_RETRY_DELAY)
        self.session.add(LogoutAttempt(delivery_id=delivery.id, attempted_at=now, status=status,
                                       error=(error or None) and error[:255], outcome=outcome.state,
                                       duration_ms=duration_ms))
        delivery.last_status = status
        delivery.last_error = (error or None) and error[:255]
        if outcome.state == "retry":
            delivery.next_attempt_at = outcome.retry_at
        else:
            delivery.state = DeliveryState.DELIVERED if outcome.state == "delivered" else DeliveryState.FAILED
            delivery.finished_at = now
        self.session.flush()
        return outcome

    # Operators --------------------------------------------------------------------------

    def deliveries(self, *, failed_only: bool = False, client_id: str | None = None,
                   limit: int = 100) -> list[LogoutDelivery]:
        """The newest deliveries first (only the given-up ones with failed_only)."""
        query = select(LogoutDelivery).order_by(LogoutDelivery.id.desc()).limit(limit)
        if failed_only:
            query = query.where(LogoutDelivery.state == DeliveryState.FAILED)
        if client_id:
            query = query.where(LogoutDelivery.client_id == client_id)
        return list(self.session.scalars(query))

    def attempts(self, delivery_ids: Iterable[int]) -> dict[int, list[LogoutAttempt]]:
        found: dict[int, list[LogoutAttempt]] = {}
        for attempt in self.session.scalars(
                select(LogoutAttempt).where(LogoutAttempt.delivery_id.in_(list(delivery_ids)))
                .order_by(LogoutAttempt.id)):
            found.setdefault(attempt.delivery_id, []).append(attempt)
        return found
