"""Queueing mail and tracking its delivery. No Flask here (design.md, Where code goes).

A view queues a message in the same transaction as the change that caused it, so a message
exists exactly when the change does; delivery.py sends it after the commit.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mail.errors import (
    MailError,
    MessageBusy,
    MessageExpired,
    MessageNotWaiting,
    NotADeadLetter,
    UnknownMessage,
)
from idp.mail.models import OutboxMessage, OutboxState
from idp.security.encryption import SecretBox

# session.info key: ids queued in this transaction, for delivery right after the commit.
QUEUED_IDS = "mail_queued_ids"
LOCALES = ("fr", "en")
# A sender owns a claimed row this long; a crashed sender's rows are retried after it.
CLAIM_LEASE = timedelta(minutes=2)
# Hosts' clocks may differ by this much (NTP keeps them far closer): a queued message whose
# next attempt is due within CLAIM_LEASE + this may be held by a sender on another host.
LEASE_MARGIN = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=1)
# Messages with a budget of their own: template -> the setting that caps them per address
# and per account in any 24 hours. They are neither refused by the shared caps nor counted
# in them. A sign-in code is the one message a person cannot do without, and only someone
# who knows the password can cause one, whereas anybody can cause "can't sign in?" mail or
# a lock notice: without this, a stranger filling the shared caps would block the code.
OWN_BUDGETS = {"signin-code": "MFA_EMAIL_CODE_DAILY_CAP"}
# Messages that carry a code or link living minutes: template -> the setting of its
# lifetime. Such a message expires with its code: a code that arrives dead is worse than
# none, so it is dropped instead (state "expired") and the code page says to request a new
# one. Links that live a day or more (activation, unlock, invitations) are not listed.
TIME_CRITICAL = {
    "signin-code": "MFA_EMAIL_CODE_TTL",
    "registration-code": "REGISTRATION_CODE_TTL",
    "password-reset": "PASSWORD_RESET_TTL",
}
_ADDRESS = re.compile(r"[^\s<>@\"']+@([^\s<>@\"']+)")


def mask_addresses(text: str) -> str:
    """Text with every email address as "a***@domain": SMTP replies often quote the
    recipient, and logs and dead letters must not keep it whole."""
    return _ADDRESS.sub(lambda match: f"{match.group(0)[:1]}***@{match.group(1)}", text)


class MailService:
    """The outbox: queue, claim, mark sent or failed, with per-address and per-account caps."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, secret_box: SecretBox):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.secret_box = secret_box

    def enqueue(
        self,
        *,
        to: str,
        template: str,
        locale: str | None,
        context: dict[str, Any],
        user_id: int | None = None,
        expires_at: datetime | None = None,
    ) -> OutboxMessage | None:
        """Queue a message; returns it, or None when a sending cap refused it.

        expires_at: when the message is no longer worth sending; a TIME_CRITICAL template
        gets its code's lifetime by default. Its Message-ID is chosen now, once.

        The caps stop anybody from using Passerelle to flood an inbox: at most
        MAIL_MAX_PER_ADDRESS_PER_HOUR messages to one address and MAIL_MAX_PER_ACCOUNT_PER_DAY
        to one account, shared by every template except those in OWN_BUDGETS, which are
        capped apart (sign-in codes: MFA_EMAIL_CODE_DAILY_CAP a day). A refused message is
        recorded as an event, never shown to the requester, whose page must look the same
        either way (no enumeration).
        """
        now = self.clock()
        address = to.strip().lower()
        if self._is_capped(address, user_id, template):
            record_event(self.session, self.clock, EventTag.MAIL_CAPPED, user_id=user_id, template=template)
            return None
        message = OutboxMessage(
            to_address=address,
            user_id=user_id,
            template=template,
            locale=locale if locale in LOCALES else self.settings.BABEL_DEFAULT_LOCALE,
            context_encrypted=self.secret_box.encrypt(json.dumps(context).encode()),
            created_at=now,
            next_attempt_at=now,
            state=OutboxState.QUEUED,
            message_id=make_msgid(domain=parseaddr(self.settings.MAIL_FROM)[1].rpartition("@")[2] or None),
            expires_at=expires_at or self._default_expiry(template, now),
        )
        self.session.add(message)
        self.session.flush()
        self.session.info.setdefault(QUEUED_IDS, []).append(message.id)
        return message

    def _default_expiry(self, template: str, now: datetime) -> datetime | None:
        if template not in TIME_CRITICAL:
            return None
        return now + timedelta(seconds=int(self.settings[TIME_CRITICAL[template]]))

    def _is_capped(self, address: str, user_id: int | None, template: str) -> bool:
        """Whether one more message would exceed its budget: its own, or the shared one."""
        now = self.clock()
        if template in OWN_BUDGETS:
            same_budget = OutboxMessage.template == template
            per_address = per_account = int(self.settings[OWN_BUDGETS[template]])
            address_window = timedelta(days=1)
        else:
            same_budget = OutboxMessage.template.not_in(list(OWN_BUDGETS))
            per_address, address_window = self.settings.MAIL_MAX_PER_ADDRESS_PER_HOUR, timedelta(hours=1)
            per_account = self.settings.MAIL_MAX_PER_ACCOUNT_PER_DAY
        to_address = self.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.to_address == address, OutboxMessage.created_at > now - address_window, same_budget
            )
        )
        if to_address >= per_address:
            return True
        if user_id is None:
            return False
        to_account = self.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.user_id == user_id, OutboxMessage.created_at > now - timedelta(days=1), same_budget
            )
        )
        return to_account >= per_account

    def last_queued_at(self, user_id: int, templates: tuple[str, ...]) -> datetime | None:
        """When a message of one of these templates was last queued for this account, or None.

        Sent messages stay in the outbox (purge_sent keeps two days), so this answers for any
        window up to a day: features use it for their own cooldowns.
        """
        return self.session.scalar(
            select(OutboxMessage.created_at)
            .where(OutboxMessage.user_id == user_id, OutboxMessage.template.in_(templates))
            .order_by(OutboxMessage.created_at.desc())
            .limit(1)
        )

    def _due(self):
        """Queued messages whose next attempt is due, oldest first (expired ones included:
        delivery drops them)."""
        return (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == OutboxState.QUEUED,
                OutboxMessage.next_attempt_at <= self.clock(),
                OutboxMessage.attempts < self.settings.MAIL_MAX_ATTEMPTS,
            )
            .order_by(OutboxMessage.id)
        )

    def due_ids(self, limit: int = 100) -> list[int]:
        """Ids of the messages due now, oldest first (see _due)."""
        return list(self.session.scalars(self._due().limit(limit)))

    def claim_next(self) -> OutboxMessage | None:
        """Take the oldest due message for one attempt, or None when none is due. On
        PostgreSQL the row is picked FOR UPDATE SKIP LOCKED, so senders on several hosts
        each take a different message without waiting for one another; claim() then makes
        it theirs (SQLite has one writer at a time: run one sender there)."""
        message_id = self.session.scalar(self._due().limit(1).with_for_update(skip_locked=True))
        return None if message_id is None else self.claim(message_id)

    def claim(self, message_id: int) -> OutboxMessage | None:
        """Take the message for one attempt, or None if it is sent, given up, or another
        sender holds it. One conditional UPDATE, so two workers never both send it."""
        now = self.clock()
        result = self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.state == OutboxState.QUEUED,
                OutboxMessage.attempts < self.settings.MAIL_MAX_ATTEMPTS,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        message = self.session.get(OutboxMessage, message_id)
        self.session.refresh(message)
        return message

    def context_of(self, message: OutboxMessage) -> dict[str, Any]:
        return json.loads(self.secret_box.decrypt(message.context_encrypted or b""))

    def is_expired(self, message: OutboxMessage) -> bool:
        return message.expires_at is not None and message.expires_at <= self.clock()

    def mark_expired(self, message: OutboxMessage) -> None:
        """Dropped unsent: its code has expired. The context (the dead code) goes at once."""
        message.state = OutboxState.EXPIRED
        message.context_encrypted = None
        self.session.flush()

    def was_dropped(self, user_id: int, template: str, queued_since: datetime) -> bool:
        """Whether the newest message of this template to this account, queued at or after
        queued_since, could not be sent before it expired (dropped, or still unsent past
        its expiry because the relay is down). Code pages use it to say why no code came."""
        message = self.session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.user_id == user_id,
                OutboxMessage.template == template,
                OutboxMessage.created_at >= queued_since,
            )
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(1)
        )
        if message is None or message.sent_at is not None:
            return False
        return message.state == OutboxState.EXPIRED or self.is_expired(message)

    def mark_sent(self, message: OutboxMessage) -> None:
        """Sent: erase the context (it may hold a code) and keep the row for the caps."""
        message.state = OutboxState.SENT
        message.sent_at = self.clock()
        message.context_encrypted = None
        message.last_error = None
        self.session.flush()

    def mark_failed(
        self, message: OutboxMessage, error: str, *, smtp_code: int | None = None, permanent: bool = False
    ) -> None:
        """Not sent: retry later, waiting twice as long after each failure (up to an hour).

        A permanent refusal (an SMTP 5xx about this message), or a failure of the last of
        MAIL_MAX_ATTEMPTS, makes it a dead letter instead (state "failed"), which
        `idp mail failed` lists and `idp mail retry` queues again. error must name no full
        address (mask_addresses).
        """
        now = self.clock()
        message.last_error = error[:255]
        message.smtp_code = smtp_code
        if permanent or message.attempts >= self.settings.MAIL_MAX_ATTEMPTS:
            message.state = OutboxState.FAILED
            message.failed_at = now
        else:
            delay = min(timedelta(seconds=self.settings.MAIL_RETRY_DELAY) * 2 ** (message.attempts - 1), MAX_RETRY_DELAY)
            message.next_attempt_at = now + delay
        self.session.flush()

    def dead_letters(self, limit: int = 100) -> list[OutboxMessage]:
        """Messages given up for good, newest first."""
        return list(
            self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.FAILED)
                .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
                .limit(limit)
            )
        )

    def requeue(self, message_id: int) -> OutboxMessage:
        """Queue a dead letter again with a fresh set of attempts (the operator fixed the
        address or the relay). Its Message-ID stays. Raises NotADeadLetter. One conditional
        UPDATE: two operators (or hosts) requeueing at once queue it once, and a message a
        sender took meanwhile is not touched."""
        changed = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.FAILED)
            .values(state=OutboxState.QUEUED, attempts=0, next_attempt_at=self.clock(), failed_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise NotADeadLetter(message_id)
        return self._reloaded(message_id)

    def _reloaded(self, message_id: int) -> OutboxMessage:
        message = self.session.get(OutboxMessage, message_id)
        self.session.refresh(message)
        return message

    def _is_not_held(self):
        """A queued message no sender holds: due (a sender must still claim it, with the
        conditional UPDATE that an operator's conditional UPDATE races fairly), or waiting
        for a retry further ahead than any claim's lease reaches (claim() sets
        next_attempt_at to at most now + CLAIM_LEASE, give or take the hosts' clocks)."""
        now = self.clock()
        return and_(OutboxMessage.state == OutboxState.QUEUED,
                    or_(OutboxMessage.next_attempt_at <= now,
                        OutboxMessage.next_attempt_at > now + CLAIM_LEASE + LEASE_MARGIN))

    def _refusal(self, message_id: int) -> MailError:
        """Why a conditional UPDATE of the console changed nothing."""
        message = self.session.get(OutboxMessage, message_id)
        if message is None:
            return UnknownMessage(message_id)
        self.session.refresh(message)
        if message.state == OutboxState.QUEUED:
            return MessageBusy(message_id)
        return MessageNotWaiting(message_id)

    def retry_now(self, message_id: int) -> OutboxMessage:
        """Back to queued, due now: a dead letter with a fresh set of attempts (requeue), or a
        queued message waiting for its next retry. Raises UnknownMessage, MessageExpired (its
        code expired: a sender would only drop it), MessageNotWaiting (sent, dropped, or
        already due), MessageBusy (a sender may be sending it right now)."""
        message = self.session.get(OutboxMessage, message_id)
        if message is None:
            raise UnknownMessage(message_id)
        if self.is_expired(message):
            raise MessageExpired(message_id)
        if message.state == OutboxState.FAILED:
            try:
                return self.requeue(message_id)
            except NotADeadLetter:
                raise self._refusal(message_id) from None
        now = self.clock()
        if message.state == OutboxState.QUEUED and message.next_attempt_at <= now:
            raise MessageNotWaiting(message_id)
        changed = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, self._is_not_held(), OutboxMessage.next_attempt_at > now)
            .values(next_attempt_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise self._refusal(message_id)
        return self._reloaded(message_id)

    def discard(self, message_id: int) -> OutboxMessage:
        """Give a message up for good (state "discarded"); its context (codes, links) goes
        at once. Only a dead letter or a queued message no sender holds: one conditional
        UPDATE, so a sender never sends a message discarded meanwhile, and a message being
        sent is not reported discarded. Raises UnknownMessage, MessageNotWaiting,
        MessageBusy."""
        changed = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id,
                   or_(OutboxMessage.state == OutboxState.FAILED, self._is_not_held()))
            .values(state=OutboxState.DISCARDED, context_encrypted=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise self._refusal(message_id)
        return self._reloaded(message_id)

    def purge_sent(self, older_than: timedelta = timedelta(days=2)) -> int:
        """Forget sent messages once no cap counts them any more."""
        result = self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.state.in_([OutboxState.SENT, OutboxState.EXPIRED, OutboxState.DISCARDED]),
                OutboxMessage.created_at < self.clock() - older_than,
            )
        )
        return result.rowcount
