"""Contexts for the console's keys, mail and audit templates, for the every-template test
(tests/unit/test_translations.py, through tests/console_support.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def console_ops_template_contexts() -> dict:
    from idp.audit import EventTag
    from idp.console.audit_log import AuditPage, EventRow
    from idp.console.forms import ReasonForm
    from idp.console.keys import KeyRow
    from idp.console.mail import DEAD, QUEUED, RETRYING, MessageRow, Section
    from idp.console.ops_forms import AuditFilterForm, RotateForm
    from idp.console.ops_views import MAIL_ACTIONS

    when = datetime(2026, 12, 3, 19, 0, tzinfo=timezone.utc)
    keys = [KeyRow("kid-next", "ES256", "next", when, when + timedelta(hours=1), None, None),
            KeyRow("kid-active", "ES256", "active", when, when, when + timedelta(hours=1), when + timedelta(days=1)),
            KeyRow("kid-retiring", "RS256", "retiring", when, when, when, when + timedelta(days=1)),
            KeyRow("kid-retired", "RS256", "retired", when, when, when, when)]
    row = MessageRow(7, "z***@example.ca", "password-reset", DEAD, 12, "550 no such user", when, timedelta(hours=3),
                     None, 550)
    sections = [Section(QUEUED, (), 0), Section(RETRYING, (row,), 120), Section(DEAD, (row,), 1)]
    event = EventRow(1, when, "console:person:viewed", "zoe@example.ca", "ops@example.ca", "192.0.2.1",
                     (("reason", "Appel"),))
    return {
        "console/keys.html": lambda: {"keys": keys, "rotated": True, "publish_ahead": 3600},
        "console/keys_rotate.html": lambda: {"form": RotateForm(), "publish_ahead": 3600},
        "console/mail.html": lambda: {"sections": sections, "notice": None},
        "console/mail_action.html": lambda: {"form": ReasonForm(), "message": row, "action": "discard",
                                             "title": MAIL_ACTIONS["discard"][0], "explanation": MAIL_ACTIONS["discard"][1]},
        "console/audit.html": lambda: {"form": AuditFilterForm(), "result": AuditPage((event,), 2, True),
                                       "page_error": None, "tags": [str(tag) for tag in EventTag]},
    }
