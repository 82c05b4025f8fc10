"""The forms of the console's keys, mail and audit pages: shape only (design.md, Where code
goes). Whether a filter names an account or an event type is AuditLog's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from idp.console.forms import reason_field

ADDRESS_HINT = {"autocomplete": "off", "spellcheck": "false", "type": "email"}
TIME_HINT = {"autocomplete": "off", "spellcheck": "false", "inputmode": "numeric"}
TOO_LONG = _l("Write at most 320 characters.")


class RotateForm(FlaskForm):
    reason = reason_field()
    immediately = BooleanField(_l("Emergency: sign with the new key at once"))


class AuditFilterForm(FlaskForm):
    """A POST, like the person search: the addresses looked up never land in access logs."""

    person = StringField(_l("Person (exact email address)"), validators=[Optional(), Length(max=320, message=TOO_LONG)],
                         render_kw=ADDRESS_HINT)
    agent = StringField(_l("Agent (exact email address)"), validators=[Optional(), Length(max=320, message=TOO_LONG)],
                        render_kw=ADDRESS_HINT)
    tag = StringField(_l("Event type"), validators=[Optional(), Length(max=64)])
    since = StringField(_l("From (UTC, included)"), validators=[Optional(), Length(max=40)], render_kw=TIME_HINT)
    until = StringField(_l("Before (UTC, not included)"), validators=[Optional(), Length(max=40)], render_kw=TIME_HINT)
