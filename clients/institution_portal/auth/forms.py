"""The sign-in choice and the sign-out button: CSRF and shape only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired


class SigninChoiceForm(FlaskForm):
    via = HiddenField(validators=[InputRequired(), AnyOf(("partner", "passerelle"))])


class SignoutForm(FlaskForm):
    pass
