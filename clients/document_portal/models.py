"""Every table of the document portal, imported so create_all and Alembic see them all.
Each feature adds its import line here."""

from __future__ import annotations

from clients.document_portal.auth.models import PortalSession, SigninState
from clients.document_portal.documents.models import Document
from clients.document_portal.shares.models import Share, ShareAttempt

__all__ = ["Document", "PortalSession", "Share", "ShareAttempt", "SigninState"]
