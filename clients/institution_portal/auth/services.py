"""Portal sessions: opened after a verified sign-in, found from the browser's token, closed
at sign-out (portal_kit.sessions: the browser holds a random token, only its SHA-256 is
stored)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from clients.institution_portal.claims import Identity
from clients.institution_portal.config import Settings
from clients.institution_portal.models import PortalSession
from clients.portal_kit.sessions import SessionStore, token_hash

__all__ = ["SessionService", "token_hash"]


class SessionService(SessionStore):
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime]):
        super().__init__(session, PortalSession, clock, settings.PORTAL_SESSION_MAX_AGE)
        self.settings = settings

    def open(self, identity: Identity, id_token: str) -> str:
        """Record a new portal session; returns the plain token for the browser's cookie."""
        return super().open(
            sub=identity.sub, acr=identity.acr, organization_id=identity.organization_id,
            organization_number=identity.organization_number, organization_name_fr=identity.organization_name_fr,
            organization_name_en=identity.organization_name_en, role=identity.role, id_token=id_token,
        )
