"""Finding a person and what an agent sees of them (issue 16, People).

What this module returns is all the console's people pages get: plain values, never a
model, so a template cannot reach a password hash, a TOTP secret, a recovery code, a token
or an emailed code (the profile dataclasses hold none of them). Looking a person up is an
audit event naming the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from idp.accounts.errors import InvalidEmail
from idp.accounts.models import User
from idp.accounts.services import canonical_email
from idp.audit import EventTag, SecurityEvent, record_event, recent_events
from idp.clock import Clock
from idp.config import Settings
from idp.console.errors import UnknownPerson
from idp.console.roles import Agent
from idp.logout.services import LogoutService
from idp.mfa.models import RecoveryCode, TotpAuthenticator, WebAuthnCredential
from idp.orgs.models import Membership, MembershipState, Organization
from idp.signin.models import UserSession

PENDING, ACTIVE, LOCKED, DISABLED = "pending", "active", "locked", "disabled"
NAME_RESULTS = 20
EVENTS_SHOWN = 20
VIEW_EVENT_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class PersonRow:
    """One search result."""

    id: int
    name: str
    email: str | None
    status: str


@dataclass(frozen=True)
class MethodRow:
    kind: str  # a factor name: "totp", "webauthn", "email_code"
    nickname: str | None
    is_passkey: bool = False
    number: int = 0  # a key's place among the person's keys, oldest first


@dataclass(frozen=True)
class SessionRow:
    started_at: datetime
    last_seen_at: datetime
    user_agent: str | None
    services: tuple[str, ...]


@dataclass(frozen=True)
class MembershipRow:
    organization_fr: str
    organization_en: str
    number: str
    role: str


@dataclass(frozen=True)
class EventRow:
    tag: str
    at: datetime
    ip_address: str | None


@dataclass(frozen=True)
class Profile:
    """A person as the console shows them: status, dates, methods by kind and nickname,
    sessions and their services, memberships, recent security events. No secret."""

    id: int
    name: str
    email: str | None
    locale: str | None
    status: str
    registered_at: datetime
    last_signin_at: datetime | None
    two_factor_set_up: bool
    recovery_codes_left: int
    methods: tuple[MethodRow, ...]
    sessions: tuple[SessionRow, ...]
    memberships: tuple[MembershipRow, ...]
    events: tuple[EventRow, ...]
    # No sign-in on record, but the account is older than SECURITY_EVENTS_RETENTION_DAYS
    # (this many days): an older sign-in may have been pruned, so "Never" would be false.
    no_signin_within_days: int | None = None


def status_of(user: User, now: datetime) -> str:
    """pending, active, locked or disabled (disabled first: it outranks everything)."""
    if user.disabled_at is not None:
        return DISABLED
    if user.activated_at is None:
        return PENDING
    if user.unlock_required_at is not None or (user.locked_until is not None and user.locked_until > now):
        return LOCKED
    return ACTIVE


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PeopleService:
    def __init__(self, session: Session, settings: Settings, clock: Clock, logout: LogoutService):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.logout = logout

    def find_by_email(self, agent: Agent, email: str) -> PersonRow | None:
        """The account at exactly this address (canonical form), or None. Every agent may;
        there is no partial match, so nobody enumerates people by a piece of an address."""
        try:
            address = canonical_email(email)
        except InvalidEmail:
            return None
        user = self.session.scalar(select(User).where(User.email == address))
        record_event(self.session, self.clock, EventTag.CONSOLE_PERSON_SEARCHED, user_id=agent.user_id,
                     agent_id=agent.user_id, by="email", found=user.id if user is not None else None)
        return self._row(user) if user is not None else None

    def search_by_name(self, agent: Agent, text: str) -> list[PersonRow]:
        """Operators only (raises NotAllowed): accounts whose given or family name contains
        the text, at most NAME_RESULTS."""
        agent.require_operator()
        words = text.strip()[:200]
        if len(words) < 2:
            return []
        pattern = f"%{_like_escaped(words.lower())}%"
        full_name = func.lower(User.given_name + " " + User.family_name)
        users = self.session.scalars(
            select(User).where(or_(full_name.like(pattern, escape="\\"),
                                   func.lower(User.family_name).like(pattern, escape="\\")))
            .order_by(User.family_name, User.given_name, User.id).limit(NAME_RESULTS)
        )
        rows = [self._row(user) for user in users]
        record_event(self.session, self.clock, EventTag.CONSOLE_PERSON_SEARCHED, user_id=agent.user_id,
                     agent_id=agent.user_id, by="name", results=len(rows))
        return rows

    def _row(self, user: User) -> PersonRow:
        return PersonRow(user.id, user.name, user.email, status_of(user, self.clock()))

    def require_found(self, agent: Agent, user_id: int, since: datetime) -> None:
        """A service-desk agent opens only a person they found by exact address since
        `since` (their console session's start), or their own account: person pages have
        numbers in their address, and walking them would list people. Operators open anyone
        (organization pages link members). Raises UnknownPerson, as for no account at all."""
        if agent.is_operator or user_id == agent.user_id:
            return
        details = self.session.scalars(select(SecurityEvent.details).where(
            SecurityEvent.user_id == agent.user_id, SecurityEvent.tag == str(EventTag.CONSOLE_PERSON_SEARCHED),
            SecurityEvent.created_at >= since))
        if not any((item or {}).get("found") == user_id for item in details):
            raise UnknownPerson

    def name_of(self, user_id: int) -> str:
        """The person's name, for an action's page. Raises UnknownPerson."""
        user = self.session.get(User, user_id)
        if user is None:
            raise UnknownPerson
        return user.name

    def profile(self, agent: Agent, user_id: int) -> Profile:
        """What the person page shows. Raises UnknownPerson. Audited (who looked at whom)."""
        user = self.session.get(User, user_id)
        if user is None:
            raise UnknownPerson
        if not self._viewed_lately(agent, user.id):
            record_event(self.session, self.clock, EventTag.CONSOLE_PERSON_VIEWED, user_id=user.id,
                         agent_id=agent.user_id)
        last_signin_at = self._last_signin(user.id)
        return Profile(
            id=user.id, name=user.name, email=user.email, locale=user.locale,
            status=status_of(user, self.clock()),
            registered_at=user.created_at,
            last_signin_at=last_signin_at,
            no_signin_within_days=self._events_kept_days(user) if last_signin_at is None else None,
            two_factor_set_up=user.mfa_enrolled_at is not None,
            recovery_codes_left=self.session.scalar(select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0,
            methods=tuple(self._methods(user)),
            sessions=tuple(self._sessions(user.id)),
            memberships=tuple(self._memberships(user.id)),
            events=tuple(EventRow(event.tag, event.created_at, event.ip_address)
                         for event in recent_events(self.session, user.id, EVENTS_SHOWN)),
        )

    def _viewed_lately(self, agent: Agent, user_id: int) -> bool:
        """This agent's view of this person is already recorded within VIEW_EVENT_WINDOW: one
        event per visit, so the person's own recent activity is not flooded by page loads."""
        since = self.clock() - VIEW_EVENT_WINDOW
        details = self.session.scalars(select(SecurityEvent.details).where(
            SecurityEvent.user_id == user_id, SecurityEvent.tag == str(EventTag.CONSOLE_PERSON_VIEWED),
            SecurityEvent.created_at >= since))
        return any((item or {}).get("agent_id") == agent.user_id for item in details)

    def _last_signin(self, user_id: int) -> datetime | None:
        return self.session.scalar(select(func.max(SecurityEvent.created_at)).where(
            SecurityEvent.user_id == user_id, SecurityEvent.tag == str(EventTag.SIGNIN_SUCCESS)))

    def _events_kept_days(self, user: User) -> int | None:
        """SECURITY_EVENTS_RETENTION_DAYS when events are pruned (not 0) and the account is
        older than that: its sign-ins before then are gone. None when every event of the
        account's life is still kept."""
        days = int(self.settings["SECURITY_EVENTS_RETENTION_DAYS"])
        if days <= 0 or user.created_at >= self.clock() - timedelta(days=days):
            return None
        return days

    def _methods(self, user: User) -> list[MethodRow]:
        methods = []
        if self.session.scalar(select(TotpAuthenticator.id).where(
                TotpAuthenticator.user_id == user.id, TotpAuthenticator.confirmed_at.is_not(None))) is not None:
            methods.append(MethodRow("totp", None))
        keys = self.session.scalars(
            select(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id).order_by(WebAuthnCredential.id))
        for number, credential in enumerate(keys, start=1):
            methods.append(MethodRow("webauthn", credential.nickname or None, bool(credential.backup_eligible), number))
        if user.email_code_enrolled_at is not None:
            methods.append(MethodRow("email_code", None))
        return methods

    def _sessions(self, user_id: int) -> list[SessionRow]:
        now = self.clock()
        sessions = self.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None),
                                      UserSession.expires_at > now)
            .order_by(UserSession.last_seen_at.desc())
        )
        return [
            SessionRow(item.created_at, item.last_seen_at, item.user_agent,
                       tuple(client.name for client in self.logout.connected_clients(item.id)))
            for item in sessions
        ]

    def _memberships(self, user_id: int) -> list[MembershipRow]:
        rows = self.session.execute(
            select(Membership, Organization).join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id == user_id, Membership.state == MembershipState.ACTIVE)
            .order_by(Membership.id)
        ).all()
        return [MembershipRow(org.name_fr, org.name_en, org.number, membership.role) for membership, org in rows]
