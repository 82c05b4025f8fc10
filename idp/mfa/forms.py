"""Second-factor forms: shape only. Whether a code is right is the service's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Regexp

from idp.mfa.services import normalize_code

ENTER_THE_CODE = _l("Enter the 6-digit code from the email.")


class EmailCodeForm(FlaskForm):
    code = StringField(
        _l("Verification code"),
        filters=[normalize_code],
        validators=[
            InputRequired(message=ENTER_THE_CODE),
            Length(max=6, message=ENTER_THE_CODE),
            Regexp(r"^[0-9]{6}$", message=ENTER_THE_CODE),
        ],
    )


class ResendCodeForm(FlaskForm):
    """Only the CSRF token: "Request a new code" changes state, so it is a POST."""
