"""Share links (issue 13, Share): made by a learner for one of their documents, opened by
anyone who holds the link (and its access code), counted, revoked at once.

The link's token is 256 random bits; the database keeps only HMAC-SHA-256 of it under the
portal's secret, found by that hash and compared in constant time. An unknown, expired,
revoked, locked or withdrawn link is one error, ShareNotAvailable, so the third party cannot
tell them apart. Access codes are stored the same way; the tenth wrong code locks the share,
counted with conditional UPDATEs so that parallel guesses cannot exceed the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clients.document_portal.documents.models import Document
from clients.document_portal.learner.services import LearnerDocuments
from clients.document_portal.shares.errors import (
    DocumentWithdrawn,
    InvalidExpiry,
    ShareNotAvailable,
    ShareNotFound,
    TooManyAttempts,
    WrongAccessCode,
)
from clients.document_portal.shares.models import Share, ShareAttempt

MIN_DAYS, MAX_DAYS = 1, 90
MAX_CODE_ATTEMPTS = 10
# 8 characters from 32 unambiguous ones (no 0/O, 1/I/L): 40 bits, ample behind a lock at 10 tries.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA-256 of value under the portal's secret, one purpose per kind of secret."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def normalize_code(plain_code: str) -> str:
    """Codes are read aloud or retyped: case, spaces and dashes do not matter."""
    return "".join(character for character in plain_code.upper() if character.isalnum())


@dataclass(frozen=True)
class NewShare:
    """A share just made: the plain link token and code exist only here, shown once."""

    share: Share
    plain_token: str
    plain_code: str | None


class ShareService:
    def __init__(self, session: Session, secret: str, clock: Callable[[], datetime]):
        self.session = session
        self.secret = secret
        self.clock = clock

    # The learner's side.

    def create(self, learner_sub: str, document_public_id: str, days: int, with_code: bool = False) -> NewShare:
        """Share one of the learner's documents for `days` days (1 to 90), with an access code
        if asked. Raises DocumentNotFound, DocumentWithdrawn, InvalidExpiry."""
        document = LearnerDocuments(self.session).get(learner_sub, document_public_id)
        if document.is_withdrawn:
            raise DocumentWithdrawn
        if not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
            raise InvalidExpiry
        now = self.clock()
        plain_token = secrets.token_urlsafe(32)
        plain_code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) if with_code else None
        share = Share(
            public_id=secrets.token_urlsafe(12), document_id=document.id, learner_sub=learner_sub,
            token_hash=keyed_hash(self.secret, "share-link", plain_token), created_at=now,
            expires_at=now + timedelta(days=days), failed_code_count=0, open_count=0,
        )
        if plain_code is not None:
            share.code_hash = keyed_hash(self.secret, "share-code", plain_code)
        self.session.add(share)
        self.session.flush()
        return NewShare(share=share, plain_token=plain_token, plain_code=plain_code)

    def active(self, learner_sub: str, document_public_id: str | None = None) -> list[Share]:
        """The learner's shares not revoked and not expired (locked ones included, so that the
        learner sees why a link stopped), newest first."""
        query = (select(Share).join(Document, Share.document_id == Document.id)
                 .where(Share.learner_sub == learner_sub, Document.learner_sub == learner_sub,
                        Share.revoked_at.is_(None), Share.expires_at > self.clock())
                 .order_by(Share.created_at.desc(), Share.id.desc()))
        if document_public_id is not None:
            query = query.where(Document.public_id == document_public_id)
        return list(self.session.scalars(query))

    def revoke(self, learner_sub: str, share_public_id: str) -> Share:
        """End a share now. Raises ShareNotFound (also for another learner's share)."""
        share = self.session.scalar(select(Share).where(Share.public_id == share_public_id,
                                                        Share.learner_sub == learner_sub))
        if share is None:
            raise ShareNotFound
        if share.revoked_at is None:
            share.revoked_at = self.clock()
            self.session.flush()
        return share

    # The third party's side.

    def find_open(self, plain_token: str | None) -> Share:
        """The live share the link names. Raises ShareNotAvailable for every other case."""
        if not plain_token or not isinstance(plain_token, str) or len(plain_token) > 100:
            raise ShareNotAvailable
        wanted = keyed_hash(self.secret, "share-link", plain_token)
        share = self.session.scalar(select(Share).where(Share.token_hash == wanted))
        if share is None or not hmac.compare_digest(share.token_hash, wanted) or not self._is_live(share):
            raise ShareNotAvailable
        return share

    def check_code(self, share: Share, plain_code: str) -> None:
        """Accept the share's access code. A wrong one costs one of MAX_CODE_ATTEMPTS tries:
        the try is reserved before comparing (so parallel guesses cannot overrun the limit)
        and given back when the code is right. Raises WrongAccessCode, or ShareNotAvailable
        once the share is locked."""
        if share.code_hash is None:
            return
        reserved = self.session.execute(
            update(Share).where(Share.id == share.id, Share.locked_at.is_(None),
                                Share.failed_code_count < MAX_CODE_ATTEMPTS)
            .values(failed_code_count=Share.failed_code_count + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if reserved != 1:
            raise ShareNotAvailable
        given = keyed_hash(self.secret, "share-code", normalize_code(plain_code or ""))
        if hmac.compare_digest(given, share.code_hash):
            self.session.execute(update(Share).where(Share.id == share.id)
                                 .values(failed_code_count=Share.failed_code_count - 1)
                                 .execution_options(synchronize_session=False))
            self.session.refresh(share)
            return
        self.session.execute(
            update(Share).where(Share.id == share.id, Share.locked_at.is_(None),
                                Share.failed_code_count >= MAX_CODE_ATTEMPTS)
            .values(locked_at=self.clock()).execution_options(synchronize_session=False)
        )
        self.session.refresh(share)
        raise WrongAccessCode(remaining=max(0, MAX_CODE_ATTEMPTS - share.failed_code_count))

    def record_open(self, share: Share) -> None:
        """Count one opening of the share page and remember when."""
        self.session.execute(update(Share).where(Share.id == share.id)
                             .values(open_count=Share.open_count + 1, last_opened_at=self.clock())
                             .execution_options(synchronize_session=False))
        self.session.refresh(share)

    def document_of(self, share: Share) -> Document:
        return self.session.get(Document, share.document_id)

    def _is_live(self, share: Share) -> bool:
        if share.revoked_at is not None or share.locked_at is not None or share.expires_at <= self.clock():
            return False
        document = self.session.get(Document, share.document_id)
        return document is not None and not document.is_withdrawn and document.learner_sub == share.learner_sub


class AttemptLimiter:
    """Slows down share-link guessing per client address: at most `limit` failed lookups or
    wrong codes per fixed window. The count lives in the portal's database (share_attempts),
    shared by every worker and host; the address is stored only as a keyed hash."""

    def __init__(self, session: Session, secret: str, clock: Callable[[], datetime], limit: int, window: timedelta):
        self.session = session
        self.secret = secret
        self.clock = clock
        self.limit = limit
        self.window = window

    def check(self, address: str | None) -> None:
        """Raises TooManyAttempts when the address used up its failures in this window."""
        start = self._window_start()
        count = self.session.scalar(select(ShareAttempt.count).where(
            ShareAttempt.address_hash == self._address_hash(address), ShareAttempt.window_start == start))
        if count is not None and count >= self.limit:
            raise TooManyAttempts(retry_after=max(1, int((start + self.window - self.clock()).total_seconds())))

    def record_failure(self, address: str | None) -> None:
        """Count one failure for the address (an atomic upsert), forgetting old windows."""
        start = self._window_start()
        self.session.execute(delete(ShareAttempt).where(ShareAttempt.window_start < start - self.window))
        values = {"address_hash": self._address_hash(address), "window_start": start, "count": 1}
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(ShareAttempt).values(**values)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=["address_hash", "window_start"], set_={"count": ShareAttempt.count + 1}))

    def _address_hash(self, address: str | None) -> str:
        return keyed_hash(self.secret, "share-address", address or "unknown")

    def _window_start(self) -> datetime:
        seconds = int(self.window.total_seconds())
        epoch = int(self.clock().timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, UTC)
