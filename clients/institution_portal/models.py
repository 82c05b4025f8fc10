"""The portal's tables in phase 1: sign-in states, portal sessions and terms acceptances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clients.institution_portal.db import Base, UTCDateTime
from clients.portal_kit.state_store import SigninStateColumns

# Every feature's tables, registered on Base.metadata (migrations/env.py, create_all).
import clients.institution_portal.auth.models  # noqa: F401, I001
import clients.institution_portal.institutions.models  # noqa: F401
import clients.institution_portal.periods.models  # noqa: F401
import clients.institution_portal.reports.models  # noqa: F401


class SigninState(SigninStateColumns, Base):
    """What an authorization request in flight must remember (PKCE verifier, nonce, redirect
    URI), keyed by its state: kept here rather than in the browser's cookie."""


class PortalSession(Base):
    """A person signed in to the portal. The browser holds only a random token whose hash
    is token_hash; the ID token (for logout's id_token_hint) stays here."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sub: Mapped[str] = mapped_column(String(255), index=True)
    organization_id: Mapped[str] = mapped_column(String(64))
    organization_number: Mapped[str] = mapped_column(String(64))
    organization_name_fr: Mapped[str] = mapped_column(String(300))
    organization_name_en: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    acr: Mapped[str] = mapped_column(String(100))
    id_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class TermsAcceptance(Base):
    """A person (by Passerelle's pairwise sub) accepted one version of the portal's terms."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (UniqueConstraint("sub", "version", name="uq_terms_acceptances_sub_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sub: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Letters of acceptance (letters/models.py): imported here so create_all and Alembic see them.
from clients.institution_portal.letters.models import AcceptanceLetter, LetterEvent  # noqa: E402,F401
