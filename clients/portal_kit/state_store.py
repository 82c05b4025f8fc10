"""What an authorization request in flight must remember (PKCE verifier, nonce, redirect
URI), kept in the portal's own database rather than in the browser's cookie: a table's
columns for each portal's model, and Authlib's cache interface over that model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from clients.portal_kit.db import UTCDateTime


class SigninStateColumns:
    """Mixin of a portal's signin_states model: `class SigninState(SigninStateColumns, Base)`."""

    __tablename__ = "signin_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class StateStore:
    """Authlib's cache interface (get/set/delete) over a signin_states model. The caller
    commits."""

    def __init__(self, session: Callable[[], Session], clock: Callable[[], datetime], model: type):
        self._session = session
        self._clock = clock
        self._model = model

    def get(self, key: str) -> str | None:
        row = self._session().get(self._model, key)
        if row is None or row.expires_at <= self._clock():
            return None
        return row.value

    def set(self, key: str, value: str, expires_in: int) -> None:
        session = self._session()
        now = self._clock()
        session.execute(delete(self._model).where(self._model.expires_at <= now))
        session.merge(self._model(key=key, value=value, expires_at=now + timedelta(seconds=expires_in)))
        session.flush()

    def delete(self, key: str) -> None:
        self._session().execute(delete(self._model).where(self._model.key == key))

    def count(self) -> int:
        return self._session().scalar(select(func.count()).select_from(self._model))
