"""What the probes, the scrape, the worker and the audit export read and delete. No Flask
here (design.md, Where code goes): the views, the worker and the CLI pass the session in.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from idp.accounts.models import UnlockLink
from idp.audit import SecurityEvent
from idp.clock import Clock
from idp.config import Settings
from idp.federation.models import PartnerRequest
from idp.invitations.models import Invitation
from idp.logout.models import LogoutDelivery
from idp.mail.models import OutboxMessage, OutboxState
from idp.mfa.models import EmailCode, WebAuthnChallenge
from idp.oidc.models import AuthorizationCode, ClientAssertionJti, DPoPProofJti, Token
from idp.robot.models import SpentRobotChallenge
from idp.signin.models import SigninTransaction, UserSession

# Sent and dropped mail stays this long: the sending caps and cooldowns count it (a day).
MAIL_KEPT = timedelta(days=2)
# Back-channel logout deliveries stay this long once delivered or given up, for `idp logout
# deliveries` (issue 14); their attempts go with them (ON DELETE CASCADE).
LOGOUT_DELIVERIES_KEPT = timedelta(days=7)


# --- readiness ----------------------------------------------------------------------------

@functools.cache
def migration_heads() -> frozenset[str]:
    """The Alembic heads this release ships (read once per process)."""
    from alembic.script import ScriptDirectory

    from idp.migrations import MIGRATIONS_DIR

    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def check_database(engine: Engine) -> tuple[str, str]:
    """(database, migrations) states: "ok", or why not. One connection, one small query."""
    try:
        with engine.connect() as connection:
            versions = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError as error:
        text_of = str(getattr(error, "orig", None) or error).lower()
        if "alembic_version" in text_of:  # reachable, never migrated
            return "ok", "not migrated"
        return "unreachable", "unknown"
    return "ok", ("ok" if versions == migration_heads() else "not at head")


def check_redis(storage: Any) -> str:
    """A limits storage (redis://): "ok" if it answers its ping."""
    try:
        return "ok" if storage.check() else "unreachable"
    except Exception:  # noqa: BLE001  (any client error, whatever its class, means not ready)
        return "unreachable"


# --- scrape-time gauges -------------------------------------------------------------------

def outbox_depth(session: Session) -> tuple[int, datetime | None]:
    """Queued messages and the creation time of the oldest: one query on ix_mail_outbox_due."""
    count, oldest = session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.state == OutboxState.QUEUED
        )
    ).one()
    return int(count), oldest


def invitations_by_state(session: Session, now: datetime) -> dict[str, int]:
    """Invitations per state (Invitation.state_at, in SQL): one grouped query."""
    state = case(
        (Invitation.accepted_at.is_not(None), "accepted"),
        (Invitation.revoked_at.is_not(None), "revoked"),
        (Invitation.expires_at <= now, "expired"),
        else_="pending",
    )
    counts = {name: 0 for name in ("pending", "accepted", "revoked", "expired")}
    counts.update({name: int(count) for name, count in session.execute(select(state, func.count()).group_by(state))})
    return counts


# --- pruning ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PruneRule:
    """Rows of `model` that are of no use once `condition(cutoff)` holds."""

    name: str
    model: Any
    condition: Any  # Callable[[datetime], ColumnElement[bool]]


def _tokens_dead(cutoff: datetime) -> ColumnElement[bool]:
    # Neither the access token nor the refresh token (when there is one) can still be used.
    # A rotated refresh token is kept as long as it would have lived, so that presenting it
    # again still revokes its grant (RFC 9700 §4.14.2).
    return and_(Token.access_expires_at < cutoff,
                or_(Token.refresh_expires_at.is_(None), Token.refresh_expires_at < cutoff))


PRUNE_RULES: tuple[PruneRule, ...] = (
    PruneRule("authorization_codes", AuthorizationCode, lambda cutoff: AuthorizationCode.expires_at < cutoff),
    PruneRule("tokens", Token, _tokens_dead),
    PruneRule("client_assertion_jtis", ClientAssertionJti, lambda cutoff: ClientAssertionJti.expires_at < cutoff),
    PruneRule("dpop_proof_jtis", DPoPProofJti, lambda cutoff: DPoPProofJti.expires_at < cutoff),
    # Before sessions and transactions: partner requests, codes and challenges point at them.
    PruneRule("partner_requests", PartnerRequest, lambda cutoff: PartnerRequest.expires_at < cutoff),
    PruneRule("email_codes", EmailCode, lambda cutoff: EmailCode.expires_at < cutoff),
    PruneRule("webauthn_challenges", WebAuthnChallenge, lambda cutoff: WebAuthnChallenge.expires_at < cutoff),
    PruneRule("signin_transactions", SigninTransaction, lambda cutoff: SigninTransaction.expires_at < cutoff),
    PruneRule("sessions", UserSession,
              lambda cutoff: or_(UserSession.expires_at < cutoff, UserSession.ended_at < cutoff)),
    PruneRule("robot_challenges_spent", SpentRobotChallenge, lambda cutoff: SpentRobotChallenge.expires_at < cutoff),
    PruneRule("unlock_links", UnlockLink, lambda cutoff: UnlockLink.expires_at < cutoff),
)


class PruneService:
    """Deletes rows that expired more than PRUNE_AFTER seconds ago, one batch at a time, so
    that no table grows without bound and no delete holds locks for long."""

    def __init__(self, session: Session, settings: Settings, clock: Clock):
        self.session = session
        self.settings = settings
        self.clock = clock

    def rules(self) -> tuple[PruneRule, ...]:
        kept = self.clock() - MAIL_KEPT
        mail = PruneRule(
            "mail_outbox", OutboxMessage,
            lambda _cutoff: and_(OutboxMessage.state.in_([OutboxState.SENT, OutboxState.EXPIRED, OutboxState.DISCARDED]),
                                 OutboxMessage.created_at < kept),
        )
        finished = self.clock() - LOGOUT_DELIVERIES_KEPT
        logout = PruneRule("logout_deliveries", LogoutDelivery,
                           lambda _cutoff: LogoutDelivery.finished_at < finished)
        return (*PRUNE_RULES, mail, logout, *self._security_events())

    def _security_events(self) -> tuple[PruneRule, ...]:
        """Events older than SECURITY_EVENTS_RETENTION_DAYS (none when it is 0): the audit
        trail is kept for its retention, not PRUNE_AFTER. Oldest rows by created_at's index."""
        days = int(self.settings["SECURITY_EVENTS_RETENTION_DAYS"])
        if days <= 0:
            return ()
        kept_since = self.clock() - timedelta(days=days)
        return (PruneRule("security_events", SecurityEvent, lambda _cutoff: SecurityEvent.created_at < kept_since),)

    def prune_batch(self, rule: PruneRule, batch: int) -> int:
        """Delete up to `batch` rows of one rule; returns how many. The caller commits."""
        cutoff = self.clock() - timedelta(seconds=self.settings.PRUNE_AFTER)
        ids = select(rule.model.id).where(rule.condition(cutoff)).limit(batch).scalar_subquery()
        result = self.session.execute(
            delete(rule.model).where(rule.model.id.in_(ids)).execution_options(synchronize_session=False)
        )
        return result.rowcount or 0


# --- audit export -------------------------------------------------------------------------

def export_events(session: Session, since: datetime, until: datetime | None, batch: int = 500,
                  where: Sequence[ColumnElement[bool]] = ()) -> Iterator[dict]:
    """Security events from `since` (inclusive) to `until` (exclusive), oldest first, one
    dict each, read `batch` rows at a time (keyset on id): memory stays flat however many.
    where: more conditions (the console's audit log filters)."""
    last_id = 0
    while True:
        query = select(SecurityEvent).where(SecurityEvent.created_at >= since, SecurityEvent.id > last_id, *where)
        if until is not None:
            query = query.where(SecurityEvent.created_at < until)
        rows = list(session.scalars(query.order_by(SecurityEvent.id).limit(batch)))
        for event in rows:
            yield {
                "id": event.id,
                "time": event.created_at.isoformat(),
                "tag": event.tag,
                "user_id": event.user_id,
                "ip_address": event.ip_address,
                "user_agent": event.user_agent,
                "details": event.details or {},
            }
        if len(rows) < batch:
            return
        last_id = rows[-1].id
        session.expunge_all()


def export_lines(session: Session, since: datetime, until: datetime | None,
                 where: Sequence[ColumnElement[bool]] = ()) -> Iterator[str]:
    """export_events as JSON lines (no newline): the format of `idp audit export --format
    jsonl`, which the console's export shares."""
    for event in export_events(session, since, until, where=where):
        yield json.dumps(event, default=_json_default, ensure_ascii=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
