"""Sign-in states and portal sessions of the document portal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clients.document_portal.db import Base, UTCDateTime
from clients.portal_kit.backchannel import SeenLogoutTokenColumns
from clients.portal_kit.state_store import SigninStateColumns

LEARNER, STAFF = "learner", "staff"


class SigninState(SigninStateColumns, Base):
    """An authorization request in flight (Authlib's state store, portal_kit.state_store)."""


class SeenLogoutToken(SeenLogoutTokenColumns, Base):
    """A back-channel logout token's jti (hashed), kept until it expires: a replay is
    refused (issue 14, portal_kit.backchannel)."""


class PortalSession(Base):
    """A person signed in to the portal. The browser holds only a random token whose hash is
    token_hash; the ID token (for logout's id_token_hint) stays here. Staff sessions carry
    the issuing organization the ID token named (every issuing action is scoped by it);
    learner sessions have none."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sub: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(20))  # learner | staff
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    organization_id: Mapped[str | None] = mapped_column(String(64))
    organization_number: Mapped[str | None] = mapped_column(String(64))
    organization_name_fr: Mapped[str | None] = mapped_column(String(300))
    organization_name_en: Mapped[str | None] = mapped_column(String(300))
    acr: Mapped[str] = mapped_column(String(100))
    id_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    @property
    def is_staff(self) -> bool:
        return self.role == STAFF and bool(self.organization_id)

    def organization_name(self, locale: str) -> str:
        return (self.organization_name_en if locale == "en" else self.organization_name_fr) or ""
