"""The decision on a letter: shape only (the service requires the reason of a refusal)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from clients.institution_portal.letters.services import MAX_REASON_LENGTH

CHOOSE_A_DECISION = _l("Choose whether you confirm or refuse the letter.")


class DecisionForm(FlaskForm):
    decision = StringField(_l("Your decision"), validators=[
        InputRequired(message=CHOOSE_A_DECISION), AnyOf(("confirm", "refuse"), message=CHOOSE_A_DECISION)])
    reason = TextAreaField(_l("Reason"), validators=[
        Length(max=MAX_REASON_LENGTH, message=_l("Write at most 1,000 characters."))])
