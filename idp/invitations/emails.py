"""Jinja filters the invitation emails use to show the expiry in the reader's language.

The outbox stores the message context as JSON, so the expiry arrives as an ISO 8601
string; the filters parse it back and format it with Babel under the message's locale
(render_email renders inside force_locale).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask_babel import format_date, format_time


def _parse(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def email_date(value: str | datetime) -> str:
    """"June 30, 2026" / "30 juin 2026"."""
    return format_date(_parse(value), "long")


def email_time(value: str | datetime) -> str:
    """"3:00 PM" / "15 h 00" in the timezone flask-babel uses (UTC, as the email says)."""
    return format_time(_parse(value), "short")


def init_app(app: Flask) -> None:
    app.add_template_filter(email_date, "email_date")
    app.add_template_filter(email_time, "email_time")
