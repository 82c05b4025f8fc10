"""Spent "not a robot" challenges, remembered until they expire so each is used once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime


class SpentRobotChallenge(Base):
    """One solved challenge that was accepted. The unique keyed hash makes a second use fail
    even when two requests race (the second insert violates the constraint)."""

    __tablename__ = "robot_challenges_spent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
