"""The document portal's sessions (portal_kit.sessions) and binding documents to the person
who signed in: Passerelle lists the portal's invitations bound to that person, and each
document issued with one of them becomes theirs. Never by email address: an address can
change hands, an invitation bound at registration cannot. No Flask."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clients.document_portal.auth.models import PortalSession
from clients.document_portal.claims import Identity
from clients.document_portal.config import Settings
from clients.document_portal.documents.models import Document
from clients.portal_kit.sessions import SessionStore


class SessionService(SessionStore):
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime]):
        super().__init__(session, PortalSession, clock, settings.DOCUMENT_PORTAL_SESSION_MAX_AGE)

    def open(self, identity: Identity, id_token: str) -> str:
        """Record a new portal session; returns the plain token for the browser's cookie."""
        return super().open(
            sub=identity.sub, role=identity.role, acr=identity.acr, given_name=identity.given_name,
            family_name=identity.family_name, email=identity.email, organization_id=identity.organization_id,
            organization_number=identity.organization_number, organization_name_fr=identity.organization_name_fr,
            organization_name_en=identity.organization_name_en, id_token=id_token,
        )


def bind_documents(session: Session, sub: str, invitation_ids: list[str], now: datetime) -> int:
    """Give the person every unbound document whose invitation Passerelle bound to them;
    returns how many. A document already bound to someone else is left alone."""
    if not invitation_ids:
        return 0
    found = session.scalars(select(Document).where(Document.invitation_id.in_(invitation_ids[:1000]),
                                                   Document.learner_sub.is_(None))).all()
    for document in found:
        document.learner_sub = sub
        document.bound_at = now
    session.flush()
    return len(found)
