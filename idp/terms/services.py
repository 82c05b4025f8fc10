"""Which version of the terms is in force, publishing a new one, and recording acceptance.

No Flask here (design.md, Where code goes). The documents themselves are templates
(idp/terms/documents.py); the database records which versions were published and when, and
who accepted which version in which language (issue 3, Terms of use and privacy policy).

Until an operator publishes a version, the newest version bundled with Passerelle is in
force, so a fresh database works at once; from the first `idp terms publish`, only
publishing changes the version in force (a release that ships a new folder does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.terms import documents
from idp.terms.errors import (
    InvalidTermsVersion,
    NoTermsAvailable,
    TermsDocumentsMissing,
    TermsVersionAlreadyPublished,
    TermsVersionChanged,
)
from idp.terms.models import TermsAcceptance, TermsVersion


@dataclass(frozen=True)
class TermsVersionInfo:
    """A version as pages and `idp terms list` show it. published_at is None for a bundled
    version nobody published (in force only while nothing is published)."""

    version: str
    published_at: datetime | None
    is_current: bool
    has_documents: bool


class TermsService:
    def __init__(self, session: Session, settings: Settings, clock: Clock, documents_root: Path | None = None):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.documents_root = documents_root or documents.documents_root(settings)

    def _latest_published(self) -> TermsVersion | None:
        return self.session.scalar(
            select(TermsVersion).order_by(TermsVersion.published_at.desc(), TermsVersion.id.desc()).limit(1)
        )

    def current(self) -> TermsVersionInfo:
        """The version in force: the latest published, else the newest bundled one.

        Raises NoTermsAvailable when there is neither (a broken installation).
        """
        latest = self._latest_published()
        if latest is not None:
            return TermsVersionInfo(latest.version, latest.published_at, True, self._has_documents(latest.version))
        bundled = documents.bundled_versions(self.documents_root)
        if not bundled:
            raise NoTermsAvailable
        return TermsVersionInfo(bundled[-1], None, True, True)

    def current_version(self) -> str:
        return self.current().version

    def _has_documents(self, version: str) -> bool:
        return documents.has_all_documents(version, self.documents_root)

    def publish(self, version: str) -> TermsVersion:
        """Put a version in force now: the next sign-in of everyone asks them to accept it.

        Raises InvalidTermsVersion, TermsDocumentsMissing (its four templates must exist, so
        nobody is asked to accept a page that cannot be shown) or TermsVersionAlreadyPublished.
        """
        if not documents.is_valid_version(version):
            raise InvalidTermsVersion
        if not self._has_documents(version):
            raise TermsDocumentsMissing
        if self.session.scalar(select(TermsVersion).where(TermsVersion.version == version)) is not None:
            raise TermsVersionAlreadyPublished
        published = TermsVersion(version=version, published_at=self.clock())
        self.session.add(published)
        self.session.flush()
        return published

    def find(self, version: str) -> TermsVersionInfo | None:
        """A version people may read: a published one, or the one in force. None otherwise
        (a folder shipped but not published yet is a draft)."""
        if not documents.is_valid_version(version):
            return None
        current = self.current()
        if version == current.version:
            return current
        published = self.session.scalar(select(TermsVersion).where(TermsVersion.version == version))
        if published is None or not self._has_documents(version):
            return None
        return TermsVersionInfo(published.version, published.published_at, False, True)

    def list_versions(self) -> list[TermsVersionInfo]:
        """Published versions, newest first, then bundled versions never published."""
        try:
            current = self.current_version()
        except NoTermsAvailable:
            current = None
        published = list(self.session.scalars(select(TermsVersion).order_by(TermsVersion.published_at.desc(), TermsVersion.id.desc())))
        listed = [
            TermsVersionInfo(row.version, row.published_at, row.version == current, self._has_documents(row.version))
            for row in published
        ]
        names = {row.version for row in published}
        for version in reversed(documents.bundled_versions(self.documents_root)):
            if version not in names:
                listed.append(TermsVersionInfo(version, None, version == current, True))
        return listed

    def earlier_versions(self) -> list[TermsVersionInfo]:
        """Published versions other than the one in force, newest first: the pages link them."""
        return [info for info in self.list_versions() if info.published_at is not None and not info.is_current and info.has_documents]

    def accept(self, user_id: int, locale: str | None, version: str | None = None) -> TermsAcceptance:
        """Record that this person accepted the version in force, read in this language.

        version, when given, is the one the person was shown: TermsVersionChanged if another
        was published meanwhile, so nobody accepts a text they did not see.
        """
        current = self.current_version()
        if version is not None and version != current:
            raise TermsVersionChanged
        acceptance = TermsAcceptance(
            user_id=user_id,
            version=current,
            locale=locale if locale in documents.LOCALES else self.settings.BABEL_DEFAULT_LOCALE,
            accepted_at=self.clock(),
        )
        self.session.add(acceptance)
        self.session.flush()
        return acceptance

    def last_acceptance(self, user_id: int) -> TermsAcceptance | None:
        return self.session.scalar(
            select(TermsAcceptance)
            .where(TermsAcceptance.user_id == user_id)
            .order_by(TermsAcceptance.accepted_at.desc(), TermsAcceptance.id.desc())
            .limit(1)
        )

    def has_accepted_current(self, user_id: int) -> bool:
        current = self.current_version()
        return (
            self.session.scalar(
                select(TermsAcceptance.id)
                .where(TermsAcceptance.user_id == user_id, TermsAcceptance.version == current)
                .limit(1)
            )
            is not None
        )
