"""Which version of the portal's terms a person accepted (by Passerelle's sub)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clients.institution_portal.config import Settings
from clients.institution_portal.models import TermsAcceptance


class TermsService:
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime]):
        self.session = session
        self.settings = settings
        self.clock = clock

    @property
    def current_version(self) -> str:
        return self.settings.PORTAL_TERMS_VERSION

    def has_accepted(self, sub: str) -> bool:
        """Whether the person accepted the current version."""
        return self.session.scalar(select(TermsAcceptance.id).where(
            TermsAcceptance.sub == sub, TermsAcceptance.version == self.current_version)) is not None

    def accept(self, sub: str) -> None:
        """Record the acceptance of the current version; accepting twice changes nothing."""
        if not self.has_accepted(sub):
            self.session.add(TermsAcceptance(sub=sub, version=self.current_version, accepted_at=self.clock()))
            self.session.flush()
