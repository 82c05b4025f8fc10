"""The portal's database: its own tables only (institution-side data), never Passerelle's."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from clients.portal_kit.db import NAMING_CONVENTION, UTCDateTime, metadata, utcnow

__all__ = ["NAMING_CONVENTION", "Base", "UTCDateTime", "db", "utcnow"]


class Base(DeclarativeBase):
    metadata = metadata()


db = SQLAlchemy(model_class=Base)
