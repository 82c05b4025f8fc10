"""Settings for the institution portal's mail in tests: the suite's SMTP server on loopback
(tests/conftest.py, the `mailbox` fixture), in clear as in development."""

from __future__ import annotations

from datetime import date

from clients.institution_portal.config import load, validate
from tests.conftest import smtp_server

PORTAL_SETTINGS = {"PORTAL_ENV": "development", "PORTAL_ISSUER": "http://127.0.0.1:5000", "PORTAL_CLIENT_ID": "c",
                   "PORTAL_CLIENT_SECRET": "s", "PORTAL_BASE_URL": "http://127.0.0.1:5003",
                   "PORTAL_SECRET_KEY": "k" * 32, "PORTAL_DATABASE_URL": "sqlite://"}


def mail_overrides(port: int | None = None) -> dict:
    """PORTAL_SMTP_* to the suite's mailbox (or to `port`, e.g. a closed one)."""
    return {"PORTAL_MAIL_FROM": "no-reply@eed.example.ca", "PORTAL_SMTP_HOST": "127.0.0.1",
            "PORTAL_SMTP_PORT": port or smtp_server().port, "PORTAL_SMTP_SECURITY": "none", "PORTAL_SMTP_TIMEOUT": 5}


def portal_settings(**overrides):
    return validate(load({**PORTAL_SETTINGS, **mail_overrides(), **overrides}, environ={}))


# Contexts of the portal's emails for the every-template checks (tests/unit/test_translations.py):
# each message folder under templates/clients/institution_portal/email/ needs one here.
COMMON_EMAIL_CONTEXT = {"portal_url": "http://127.0.0.1:5003", "help_url": "http://127.0.0.1:5003/help"}
PERIOD_EMAIL_CONTEXT = {"institution_name": {"fr": "Collège Imaginaire", "en": "Imaginary College"},
                        "number": "O123456789012", "opens_on": date(2026, 11, 1), "due_on": date(2026, 12, 31),
                        "days_left": 7}
RECEIPT_EMAIL_CONTEXT = {"institution_name": {"fr": "Collège Imaginaire", "en": "Imaginary College"},
                         "number": "O123456789012", "receipt": "EED-7K3M-Q9TX", "version": 2, "students": 12,
                         "submitted_on": date(2026, 11, 20), "due_on": date(2026, 12, 31)}
PORTAL_EMAIL_CONTEXTS = {"period-opened": PERIOD_EMAIL_CONTEXT, "period-reminder": PERIOD_EMAIL_CONTEXT,
                         "report-receipt": RECEIPT_EMAIL_CONTEXT}


def render_portal_email(path: str, locale: str) -> str:
    """One file of templates/clients/institution_portal/email/ as the mail module sends it
    (subject, whole text or whole HTML message) in one language; "" for the layout's parts."""
    from clients.institution_portal.mail import render_email

    folder, _, file = path.partition("/")
    if folder.startswith("_"):
        return ""
    rendered = render_email(folder, (locale,), {**COMMON_EMAIL_CONTEXT, **PORTAL_EMAIL_CONTEXTS[folder]})
    return {"subject.txt": rendered.subject, "body.txt": rendered.text, "body.html": rendered.html}[file]


def home_reporting(kind: str = "open"):
    """What home.html receives about reporting (periods/display.py), for the template checks."""
    from clients.institution_portal.periods.display import PROVINCE_NAMES, Reporting, long_date, months_text

    return Reporting(kind=kind, province=str(PROVINCE_NAMES["ON"]), months=months_text((4, 11)), days=60, period_id=1,
                     opens_on=long_date(date(2026, 11, 1)), due_on=long_date(date(2026, 12, 31)), days_left=24)
