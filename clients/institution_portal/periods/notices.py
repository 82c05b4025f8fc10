"""Claiming a notice before sending it, so each is sent once (no Flask; the runner commits
between the steps, so other runs see each claim).

A run claims a notice by inserting its row (unique per period and kind): of two runs at
once, one inserts, the other's insert fails and it moves on. A failed send is released
(state failed) and claimed again, by an update that only one run can win, on a later run.
A claim whose run died while sending is taken over after CLAIM_LEASE: if that run had in
fact handed the message to the relay, this one case sends it twice (docs: Notices).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clients.institution_portal.periods.models import NoticeState, PeriodNotice

CLAIM_LEASE = timedelta(hours=1)


class NoticeService:
    def __init__(self, session: Session, clock: Callable[[], datetime]):
        self.session = session
        self.clock = clock

    def find(self, period_id: int, kind: str) -> PeriodNotice | None:
        return self.session.scalar(select(PeriodNotice).where(PeriodNotice.period_id == period_id,
                                                              PeriodNotice.kind == kind))

    def claim(self, period_id: int, kind: str) -> PeriodNotice | None:
        """The notice, now this run's to send; None when it was sent or another run holds it."""
        now = self.clock()
        try:
            with self.session.begin_nested():
                notice = PeriodNotice(period_id=period_id, kind=kind, state=NoticeState.SENDING, attempts=1,
                                      claimed_at=now)
                self.session.add(notice)
            return notice
        except IntegrityError:
            pass
        claimable = or_(PeriodNotice.state == NoticeState.FAILED,
                        and_(PeriodNotice.state == NoticeState.SENDING, PeriodNotice.claimed_at < now - CLAIM_LEASE))
        won = self.session.execute(
            update(PeriodNotice)
            .where(PeriodNotice.period_id == period_id, PeriodNotice.kind == kind, claimable)
            .values(state=NoticeState.SENDING, claimed_at=now, attempts=PeriodNotice.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            return None
        notice = self.find(period_id, kind)
        self.session.refresh(notice)
        return notice

    def mark_sent(self, notice: PeriodNotice, recipient: str) -> None:
        notice.state = NoticeState.SENT
        notice.sent_at = self.clock()
        notice.recipient = recipient
        notice.last_error = None
        self.session.flush()

    def mark_failed(self, notice: PeriodNotice, reason: str) -> None:
        notice.state = NoticeState.FAILED
        notice.last_error = reason[:255]
        self.session.flush()
