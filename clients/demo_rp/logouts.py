"""What the demo relying party learns from Passerelle's back-channel logout tokens (issue
14), kept in its own small database so that any number of workers behave as one
(design.md): the `jti`s already used (a replay is refused by every worker) and the
sign-ins that ended. Its sessions live in signed cookies it cannot reach, so it remembers
which sessions ended (by `sid`, or every one of a `sub` signed in before the logout) and
forgets the cookie's sign-in at the browser's next request.

The tables are created when the app starts (a demo has no migrations to run). No Flask
here: each method opens and commits its own short transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Integer, String, create_engine, delete, exists, or_, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

from clients.portal_kit.backchannel import LogoutClaims, SeenLogoutTokenColumns, remember_jti
from clients.portal_kit.db import UTCDateTime, metadata

# An ended sign-in is remembered this long: far longer than the demo's session cookie, which
# lasts until the browser closes.
ENDED_SIGN_IN_RETENTION = timedelta(days=30)


class Base(DeclarativeBase):
    metadata = metadata()


class SeenLogoutToken(SeenLogoutTokenColumns, Base):
    pass


class EndedSignIn(Base):
    """A sign-in Passerelle ended: the one its `sid` names, or (no sid) every sign-in of
    `sub` whose ID token was issued at or before ended_at."""

    __tablename__ = "ended_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str | None] = mapped_column(String(255), index=True)
    sub: Mapped[str | None] = mapped_column(String(255), index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def database_engine(url: str | None) -> Engine:
    """The engine for DEMO_RP_DATABASE_URL, its tables created. None is a private in-memory
    database (one app, for tests that do not look at logouts); a SQLite file's folder is
    created if missing."""
    if url is None:
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        database = make_url(url).database
        if make_url(url).get_backend_name() == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
    Base.metadata.create_all(engine)
    return engine


class EndedSessions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def remember(self, claims: LogoutClaims, now: datetime) -> bool:
        """Record a verified logout token; False if its jti was already used (a replay), at
        this worker or any other on the same database."""
        with Session(self.engine) as session, session.begin():
            if not remember_jti(session, SeenLogoutToken, claims, now):
                return False
            session.execute(delete(EndedSignIn).where(EndedSignIn.ended_at < now - ENDED_SIGN_IN_RETENTION))
            if claims.sid:
                session.add(EndedSignIn(sid=claims.sid, ended_at=now))
            elif claims.sub:
                session.add(EndedSignIn(sub=claims.sub, ended_at=now))
            return True

    def has_ended(self, id_token_claims: dict) -> bool:
        """Whether the sign-in these ID token claims describe was ended by a logout token."""
        sid, sub, iat = (id_token_claims.get(name) for name in ("sid", "sub", "iat"))
        matches = []
        if isinstance(sid, str):
            matches.append(EndedSignIn.sid == sid)
        if isinstance(sub, str):
            issued_at = datetime.fromtimestamp(iat if isinstance(iat, int | float) else 0, UTC)
            matches.append((EndedSignIn.sub == sub) & (EndedSignIn.ended_at >= issued_at))
        if not matches:
            return False
        with Session(self.engine) as session:
            return bool(session.scalar(select(exists().where(or_(*matches)))))

