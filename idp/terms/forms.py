"""The terms step's form: shape only. Which version is accepted is the service's decision."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, InputRequired


class TermsDecisionForm(FlaskForm):
    # Filled by the button pressed: <button name="decision" value="accept|decline">.
    decision = StringField(validators=[InputRequired(), AnyOf(("accept", "decline"))])
