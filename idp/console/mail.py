"""The mail outbox in the console (issue 16), operators only: what waits to be sent, what
failed and waits for a retry, the dead letters; send one again or discard it, with a reason
in the audit event. Through MailService (idp.mail.services), whose conditional UPDATEs keep
the senders' claim rules: a message a sender may be sending right now is left alone.

Rows carry the recipient masked as the logs mask it (mask_addresses) and the template's
name, never the message's context (it may hold a code or a link): it is not even decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from idp.audit import EventTag, record_event
from idp.console.actions import checked_reason
from idp.console.roles import Agent
from idp.mail.errors import UnknownMessage
from idp.mail.models import OutboxMessage, OutboxState
from idp.mail.services import MailService, mask_addresses

SHOWN = 100  # rows per section; the page says how many there are in all
QUEUED, RETRYING, DEAD = "queued", "retrying", "dead"
RETRY, DISCARD = "retry", "discard"


@dataclass(frozen=True)
class MessageRow:
    id: int
    recipient: str  # masked: a***@example.ca
    template: str
    state: str  # queued, retrying, dead, or the outbox's own state once done (sent, expired, discarded)
    attempts: int
    last_error: str | None
    created_at: datetime
    age: timedelta
    next_attempt_at: datetime | None
    smtp_code: int | None


@dataclass(frozen=True)
class Section:
    name: str  # QUEUED, RETRYING, DEAD
    rows: tuple[MessageRow, ...]
    total: int


class ConsoleMail:
    def __init__(self, mail: MailService):
        self.mail = mail
        self.session = mail.session
        self.clock = mail.clock

    def outbox(self, agent: Agent) -> list[Section]:
        """Waiting to be sent and retrying (oldest first), dead letters (newest first). Raises NotAllowed."""
        agent.require_operator()
        return [
            self._section(QUEUED, (OutboxState.QUEUED,), OutboxMessage.last_error.is_(None)),
            self._section(RETRYING, (OutboxState.QUEUED,), OutboxMessage.last_error.is_not(None)),
            self._section(DEAD, (OutboxState.FAILED,), None, newest_first=True),
        ]

    def message(self, agent: Agent, message_id: int) -> MessageRow:
        """One message. Raises NotAllowed, UnknownMessage."""
        agent.require_operator()
        message = self.session.get(OutboxMessage, message_id)
        if message is None:
            raise UnknownMessage(message_id)
        return self._row(message)

    def act(self, agent: Agent, message_id: int, action: str, reason: str | None) -> MessageRow:
        """RETRY (back to queued, due now) or DISCARD, with a reason. Raises NotAllowed,
        ReasonRequired, and what MailService.retry_now / discard raise (the caller rolls back)."""
        agent.require_operator()
        reason = checked_reason(reason)
        before = self.message(agent, message_id)
        if action == RETRY:
            message, tag = self.mail.retry_now(message_id), EventTag.CONSOLE_MAIL_RETRIED
        else:
            message, tag = self.mail.discard(message_id), EventTag.CONSOLE_MAIL_DISCARDED
        record_event(self.session, self.clock, tag, user_id=agent.user_id, agent_id=agent.user_id, reason=reason,
                     message=message.id, template=message.template, to=before.recipient, was=before.state)
        return self._row(message)

    def _section(self, name: str, states, condition, *, newest_first: bool = False) -> Section:
        query = select(OutboxMessage).where(OutboxMessage.state.in_(states))
        if condition is not None:
            query = query.where(condition)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = OutboxMessage.id.desc() if newest_first else OutboxMessage.id
        rows = tuple(self._row(message) for message in self.session.scalars(query.order_by(order).limit(SHOWN)))
        return Section(name, rows, int(total))

    def _row(self, message: OutboxMessage) -> MessageRow:
        if message.state == OutboxState.QUEUED:
            state = RETRYING if message.last_error is not None else QUEUED
        else:
            state = DEAD if message.state == OutboxState.FAILED else message.state
        waiting = message.state == OutboxState.QUEUED
        return MessageRow(
            id=message.id, recipient=mask_addresses(message.to_address), template=message.template, state=state,
            attempts=message.attempts, last_error=mask_addresses(message.last_error) if message.last_error else None,
            created_at=message.created_at, age=self.clock() - message.created_at,
            next_attempt_at=message.next_attempt_at if waiting else None, smtp_code=message.smtp_code,
        )
