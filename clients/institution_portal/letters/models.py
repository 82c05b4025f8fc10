"""Letters of acceptance the ministry asks institutions to verify (seed 001: secondary users
"validate letters of acceptance"), and the record of who did what with each."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clients.institution_portal.db import Base, UTCDateTime


class LetterState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class LetterAction(StrEnum):
    IMPORTED = "imported"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class AcceptanceLetter(Base):
    """One verification request: did this institution issue this letter of acceptance? The
    institution is its DLI number (the CSV's, the ID token's organization number); pages find
    a letter by its random public_id within the signed-in person's institution only."""

    __tablename__ = "acceptance_letters"
    __table_args__ = (UniqueConstraint("dli_number", "letter_number", name="uq_acceptance_letters_dli_letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    dli_number: Mapped[str] = mapped_column(String(64), index=True)
    letter_number: Mapped[str] = mapped_column(String(64))
    family_name: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date())
    program: Mapped[str] = mapped_column(String(300))
    start_date: Mapped[date] = mapped_column(Date())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), default=LetterState.PENDING, index=True)
    # The decision, once: who (Passerelle's sub for the portal, and the name in their ID
    # token), when, and the reason of a refusal. version moves with every change.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_sub: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text(), nullable=True)
    version: Mapped[int] = mapped_column(Integer(), default=1)

    @property
    def is_pending(self) -> bool:
        return self.state == LetterState.PENDING


class LetterEvent(Base):
    """The audit trail of a letter: imported (by the operator's command), then confirmed or
    refused (by whom, when, why). Rows are only added."""

    __tablename__ = "acceptance_letter_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("acceptance_letters.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_sub: Mapped[str | None] = mapped_column(String(255), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(Text(), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
