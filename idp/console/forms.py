"""The console's forms: shape only (design.md, Where code goes). Whether a reason or a
verification is acceptable is PersonActions' decision, whose refusals the views show."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from idp.console.actions import REASON_MAX

ENTER_A_REASON = _l("Write the reason for this action: it is kept in the audit log.")
REASON_TOO_LONG = _l("Write at most 1,000 characters.")
ENTER_AN_ADDRESS = _l("Enter the person's exact email address, like name@example.ca.")


class SearchForm(FlaskForm):
    """A POST, so that the addresses agents look up never land in access logs."""

    email = StringField(_l("Email address"), validators=[Optional(), Length(max=320, message=ENTER_AN_ADDRESS)],
                        render_kw={"autocomplete": "off", "spellcheck": "false", "type": "email"})
    name = StringField(_l("Name (operators only)"), validators=[Optional(), Length(max=200)],
                       render_kw={"autocomplete": "off", "spellcheck": "false"})


def reason_field(label=None) -> TextAreaField:
    return TextAreaField(
        label or _l("Reason"),
        validators=[InputRequired(message=ENTER_A_REASON), Length(max=REASON_MAX, message=REASON_TOO_LONG)],
    )


class ReasonForm(FlaskForm):
    reason = reason_field()


class ResetTwoFactorForm(FlaskForm):
    # Checked against VERIFICATIONS by the service; a radio group on the page.
    verification = StringField(_l("How did you verify the person's identity?"))
    reason = reason_field(_l("Note: what you checked, and why two-factor is reset"))
