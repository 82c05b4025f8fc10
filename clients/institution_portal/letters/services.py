"""Letters of acceptance: the institution's queue, its history, and each decision (confirm,
or refuse with a reason), made once and recorded with who made it. No Flask; callers commit.

Every query names the institution (its DLI number, from the person's ID token): a letter of
another institution is LetterNotFound, exactly like one that does not exist. The decision is
an UPDATE … WHERE state = 'pending' (an optimistic check): of two people deciding at once,
or a form left open after a colleague decided, only the first changes the letter.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clients.institution_portal.letters.errors import (
    LetterAlreadyDecided,
    LetterNotFound,
    ReasonRequired,
    ReasonTooLong,
    UnknownDecision,
)
from clients.institution_portal.letters.models import (
    AcceptanceLetter,
    LetterAction,
    LetterEvent,
    LetterState,
)

MAX_REASON_LENGTH = 1000
DECISIONS = {"confirm": LetterState.CONFIRMED, "refuse": LetterState.REFUSED}
HISTORY_LIMIT = 200


def new_public_id() -> str:
    """128 random bits: a letter's id in URLs cannot be guessed from another's."""
    return secrets.token_urlsafe(16)


class LetterService:
    """One institution's letters, for the people of that institution."""

    def __init__(self, session: Session, clock: Callable[[], datetime]):
        self.session = session
        self.clock = clock

    def pending(self, dli_number: str) -> list[AcceptanceLetter]:
        """The letters waiting for a decision, oldest request first."""
        return list(self.session.scalars(
            select(AcceptanceLetter)
            .where(AcceptanceLetter.dli_number == dli_number, AcceptanceLetter.state == LetterState.PENDING)
            .order_by(AcceptanceLetter.requested_at, AcceptanceLetter.id)
        ))

    def pending_count(self, dli_number: str) -> int:
        return self.session.scalar(
            select(func.count()).select_from(AcceptanceLetter)
            .where(AcceptanceLetter.dli_number == dli_number, AcceptanceLetter.state == LetterState.PENDING)
        ) or 0

    def decided(self, dli_number: str, limit: int = HISTORY_LIMIT) -> list[AcceptanceLetter]:
        """The history: decided letters, the latest decision first."""
        return list(self.session.scalars(
            select(AcceptanceLetter)
            .where(AcceptanceLetter.dli_number == dli_number, AcceptanceLetter.state != LetterState.PENDING)
            .order_by(AcceptanceLetter.decided_at.desc(), AcceptanceLetter.id.desc())
            .limit(limit)
        ))

    def get(self, dli_number: str, public_id: str) -> AcceptanceLetter:
        """The institution's letter with this id. Raises LetterNotFound (also for another
        institution's letter)."""
        if not isinstance(public_id, str) or len(public_id) > 64:
            raise LetterNotFound(public_id)
        letter = self.session.scalar(select(AcceptanceLetter).where(
            AcceptanceLetter.public_id == public_id, AcceptanceLetter.dli_number == dli_number))
        if letter is None:
            raise LetterNotFound(public_id)
        return letter

    def events(self, letter: AcceptanceLetter) -> list[LetterEvent]:
        return list(self.session.scalars(
            select(LetterEvent).where(LetterEvent.letter_id == letter.id).order_by(LetterEvent.id)))

    def decide(self, dli_number: str, public_id: str, *, decision: str, reason: str | None, actor_sub: str,
               actor_name: str) -> AcceptanceLetter:
        """Confirm or refuse the letter, once, as this person; recorded in its events.

        Raises LetterNotFound, UnknownDecision, ReasonRequired (a refusal without a reason),
        ReasonTooLong, LetterAlreadyDecided (someone decided it first; nothing changed).
        """
        letter = self.get(dli_number, public_id)
        if decision not in DECISIONS:
            raise UnknownDecision(decision)
        reason = (reason or "").strip() or None
        if DECISIONS[decision] == LetterState.REFUSED and reason is None:
            raise ReasonRequired
        if reason is not None and len(reason) > MAX_REASON_LENGTH:
            raise ReasonTooLong
        if not letter.is_pending:
            raise LetterAlreadyDecided(letter)
        now = self.clock()
        changed = self.session.execute(
            update(AcceptanceLetter)
            .where(AcceptanceLetter.id == letter.id, AcceptanceLetter.state == LetterState.PENDING,
                   AcceptanceLetter.version == letter.version)
            .values(state=DECISIONS[decision], decided_at=now, decided_by_sub=actor_sub, decided_by_name=actor_name,
                    reason=reason, version=AcceptanceLetter.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        self.session.refresh(letter)
        if changed != 1:
            raise LetterAlreadyDecided(letter)
        self.session.add(LetterEvent(letter_id=letter.id, action=LetterAction(DECISIONS[decision].value),
                                     actor_sub=actor_sub, actor_name=actor_name, reason=reason, at=now))
        self.session.flush()
        return letter
