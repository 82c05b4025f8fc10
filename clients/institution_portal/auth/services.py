"""Portal sessions: opened after a verified sign-in, found from the browser's token, closed
at sign-out. The browser holds a random token; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clients.institution_portal.claims import Identity
from clients.institution_portal.config import Settings
from clients.institution_portal.models import PortalSession


def token_hash(plain_token: str) -> str:
    return hashlib.sha256(plain_token.encode()).hexdigest()


class SessionService:
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime]):
        self.session = session
        self.settings = settings
        self.clock = clock

    def open(self, identity: Identity, id_token: str) -> str:
        """Record a new portal session; returns the plain token for the browser's cookie."""
        now = self.clock()
        self.session.execute(delete(PortalSession).where(PortalSession.expires_at <= now))
        plain_token = secrets.token_urlsafe(32)
        self.session.add(PortalSession(
            token_hash=token_hash(plain_token), sub=identity.sub, acr=identity.acr,
            organization_id=identity.organization_id, organization_number=identity.organization_number,
            organization_name_fr=identity.organization_name_fr, organization_name_en=identity.organization_name_en,
            role=identity.role, id_token=id_token, created_at=now,
            expires_at=now + timedelta(seconds=self.settings.PORTAL_SESSION_MAX_AGE),
        ))
        self.session.flush()
        return plain_token

    def find(self, plain_token: str | None) -> PortalSession | None:
        """The live session the token names, or None."""
        if not plain_token or not isinstance(plain_token, str):
            return None
        wanted = token_hash(plain_token)
        found = self.session.scalar(select(PortalSession).where(PortalSession.token_hash == wanted))
        if found is None or not hmac.compare_digest(found.token_hash, wanted) or found.expires_at <= self.clock():
            return None
        return found

    def close(self, plain_token: str | None) -> str | None:
        """End the session; returns its ID token (for logout's id_token_hint), if any."""
        found = self.find(plain_token)
        if found is None:
            return None
        id_token = found.id_token
        self.session.delete(found)
        self.session.flush()
        return id_token
