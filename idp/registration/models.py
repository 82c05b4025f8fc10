"""Registrations in progress: one row per activation link or verification code sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class RegistrationKind(StrEnum):
    LINK = "link"  # an activation link, then "Almost there" (seed 000)
    CODE = "code"  # a 6-digit verification code typed on "Confirm your registration" (seed 001)


class Registration(Base):
    """One proof-of-address attempt for a pending account, and what the browser does next.

    The account itself is a User with activated_at None (idp/accounts); this row holds the
    secret sent to the address (keyed hashes only, design.md Data at rest), its expiry and
    attempts, and the handle of the browser that continues the journey. Issuing a new link
    or code closes the older rows of the same account and kind, so only the latest works.

    user_id None marks a row made for an address that already has an active account: the
    page and its timing look the same as for a new one (no enumeration), but no code can
    ever complete it, and the address got an "you already have an account" email instead.
    """

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_email", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # canonical, as users.email
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))  # RegistrationKind
    locale: Mapped[str] = mapped_column(String(8))  # the language of its emails and pages
    # HMAC of the activation link's token (purpose "registration-activation"): unique, so a
    # link finds at most one row. Codes are only 6 digits, so theirs cannot be unique.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    secret_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    secret_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes typed
    # When the link was confirmed or the code matched: the secret is spent from then on.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # HMAC of the random handle in the browser's registration cookie (purpose
    # "registration-handle"): which registration "Almost there" and "Confirm" are about.
    handle_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handle_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The terms version the person consented to on the code form, recorded only if it is
    # still the current one when the registration completes.
    terms_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # replaced by a newer row
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
