"""Share forms: shape only (CSRF, a whole number of days, a code's length)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from clients.document_portal.shares.services import MAX_DAYS, MIN_DAYS


class ShareForm(FlaskForm):
    days = IntegerField(
        _l("Link valid for (days)"), default=30,
        validators=[InputRequired(message=_l("Enter a number of days from 1 to 90.")),
                    NumberRange(min=MIN_DAYS, max=MAX_DAYS, message=_l("Enter a number of days from 1 to 90."))],
    )
    with_code = BooleanField(_l("Also require an access code, which I will give the recipient separately"))


class RevokeForm(FlaskForm):
    pass


class AccessCodeForm(FlaskForm):
    code = StringField(_l("Access code"), validators=[
        InputRequired(message=_l("Enter the access code you were given.")),
        Length(max=40, message=_l("Enter the access code you were given.")),
    ])
