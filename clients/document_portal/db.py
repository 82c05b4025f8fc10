"""The document portal's database: its own tables only (issued documents, sessions, shares),
never Passerelle's."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from clients.portal_kit.db import UTCDateTime, metadata, utcnow

__all__ = ["Base", "UTCDateTime", "db", "utcnow"]


class Base(DeclarativeBase):
    metadata = metadata()


db = SQLAlchemy(model_class=Base)
