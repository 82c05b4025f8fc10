"""Portal sessions: opened after a verified sign-in, found from the browser's token, closed
at sign-out. The browser holds a random token; only its SHA-256 is stored (in the portal's
own table, whose model has token_hash, sub, id_token, created_at and expires_at). No Flask."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session


def token_hash(plain_token: str) -> str:
    return hashlib.sha256(plain_token.encode()).hexdigest()


class SessionStore:
    def __init__(self, session: Session, model: type, clock: Callable[[], datetime], max_age: int):
        self.session = session
        self.model = model
        self.clock = clock
        self.max_age = max_age

    def open(self, **columns: Any) -> str:
        """Record a new portal session; returns the plain token for the browser's cookie."""
        now = self.clock()
        self.session.execute(delete(self.model).where(self.model.expires_at <= now))
        plain_token = secrets.token_urlsafe(32)
        self.session.add(self.model(token_hash=token_hash(plain_token), created_at=now,
                                    expires_at=now + timedelta(seconds=self.max_age), **columns))
        self.session.flush()
        return plain_token

    def find(self, plain_token: str | None):
        """The live session the token names, or None."""
        if not plain_token or not isinstance(plain_token, str):
            return None
        wanted = token_hash(plain_token)
        found = self.session.scalar(select(self.model).where(self.model.token_hash == wanted))
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
