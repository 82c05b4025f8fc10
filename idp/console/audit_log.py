"""The audit log in the console (issue 16), operators only: the security events filtered by
person (exact address), agent (exact address), event type and time, newest first, a page at
a time; and the same filtered events exported as JSON lines, the format of `idp audit export
--format jsonl` (idp.ops.services.export_lines). Looking and exporting are audit events
themselves, with the filters (people as account ids, not addresses).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from idp.accounts.errors import InvalidEmail
from idp.accounts.models import User
from idp.accounts.services import canonical_email
from idp.audit import EventTag, SecurityEvent, record_event
from idp.clock import Clock
from idp.console.errors import BadFilter
from idp.console.roles import Agent
from idp.ops.services import export_lines

PAGE_SIZE = 50
MAX_PAGE = 1000  # 50,000 events back: past that, narrow the filters or export
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TAGS = tuple(str(tag) for tag in EventTag)


@dataclass(frozen=True)
class AuditFilter:
    """What the operator asked for, checked: account ids, an event type, a time window."""

    person_id: int | None = None
    agent_id: int | None = None
    tag: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.person_id is not None:
            found.append(SecurityEvent.user_id == self.person_id)
        if self.agent_id is not None:
            found.append(SecurityEvent.details["agent_id"].as_integer() == self.agent_id)
        if self.tag is not None:
            found.append(SecurityEvent.tag == self.tag)
        if self.since is not None:
            found.append(SecurityEvent.created_at >= self.since)
        if self.until is not None:
            found.append(SecurityEvent.created_at < self.until)
        return found

    def recorded(self) -> dict[str, Any]:
        """The filters as the audit event keeps them (no address, no empty value)."""
        values = {"person_id": self.person_id, "agent_id": self.agent_id, "tag": self.tag,
                  "since": self.since.isoformat() if self.since else None,
                  "until": self.until.isoformat() if self.until else None}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    tag: str
    person: str | None  # the account's address (or #id once it has none)
    agent: str | None
    ip_address: str | None
    details: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AuditPage:
    events: tuple[EventRow, ...]
    page: int
    has_more: bool


def parse_time(value: str | None) -> datetime | None:
    """A date or date and time, ISO 8601 ("2026-12-01", "2026-12-01 08:00", "...T08:00Z"),
    UTC unless it says otherwise; None for nothing. Raises ValueError."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 40:
        raise ValueError(text[:40])
    moment = datetime.fromisoformat(text)
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:  # year 1 or 9999 shifted out of range by its offset
        raise ValueError(text) from None


class AuditLog:
    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def parse(self, person: str | None, agent: str | None, tag: str | None, since: str | None,
              until: str | None) -> AuditFilter:
        """The form's text as a filter. Raises BadFilter naming the field and the problem."""
        try:
            start = parse_time(since)
        except ValueError:
            raise BadFilter("since", "bad_time") from None
        try:
            end = parse_time(until)
        except ValueError:
            raise BadFilter("until", "bad_time") from None
        if start is not None and end is not None and end <= start:
            raise BadFilter("until", "empty_range")
        tag = (tag or "").strip() or None
        if tag is not None and tag not in TAGS:
            raise BadFilter("tag", "unknown_event")
        return AuditFilter(self._account("person", person), self._account("agent", agent), tag, start, end)

    def page(self, agent: Agent, wanted: AuditFilter, page: int = 1) -> AuditPage:
        """One page of matching events, newest first; recorded as console:audit:viewed.
        Raises NotAllowed, BadFilter (a page number out of range)."""
        agent.require_operator()
        if not 1 <= page <= MAX_PAGE:
            raise BadFilter("page", "bad_page")
        rows = list(self.session.scalars(
            select(SecurityEvent).where(*wanted.conditions())
            .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
        events = self._rows(rows[:PAGE_SIZE])
        record_event(self.session, self.clock, EventTag.CONSOLE_AUDIT_VIEWED, user_id=agent.user_id,
                     agent_id=agent.user_id, page=page, filters=wanted.recorded())
        return AuditPage(events, page, len(rows) > PAGE_SIZE)

    def export(self, agent: Agent, wanted: AuditFilter) -> Iterator[str]:
        """Record console:audit:exported (the caller commits before reading), then the
        matching events as JSON lines, oldest first, read in batches. Raises NotAllowed."""
        agent.require_operator()
        record_event(self.session, self.clock, EventTag.CONSOLE_AUDIT_EXPORTED, user_id=agent.user_id,
                     agent_id=agent.user_id, filters=wanted.recorded())
        return export_lines(self.session, wanted.since or EPOCH, wanted.until, where=wanted.conditions())

    def _account(self, field: str, address: str | None) -> int | None:
        if not (address or "").strip():
            return None
        try:
            email = canonical_email(address)
        except InvalidEmail:
            raise BadFilter(field, "no_account") from None
        user_id = self.session.scalar(select(User.id).where(User.email == email))
        if user_id is None:
            raise BadFilter(field, "no_account")
        return user_id

    def _rows(self, events: list[SecurityEvent]) -> tuple[EventRow, ...]:
        ids = {event.user_id for event in events} | {_agent_of(event) for event in events}
        ids.discard(None)
        addresses = dict(self.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()) if ids else {}

        def name(user_id: int | None) -> str | None:
            return None if user_id is None else addresses.get(user_id) or f"#{user_id}"

        return tuple(
            EventRow(event.id, event.created_at, event.tag, name(event.user_id), name(_agent_of(event)),
                     event.ip_address, tuple((str(key), _text(value)) for key, value in sorted((event.details or {}).items())
                                             if key != "agent_id"))
            for event in events)


def _agent_of(event: SecurityEvent) -> int | None:
    value = (event.details or {}).get("agent_id")
    return value if isinstance(value, int) else None


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_text(item)}" for key, item in sorted(value.items()))
    return "–" if value is None else str(value)
