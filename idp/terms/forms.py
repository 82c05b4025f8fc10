"""The terms step's form: shape only. Which version is accepted is the service's decision."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Length


class TermsDecisionForm(FlaskForm):
    # Filled by the button pressed: <button name="decision" value="accept|decline">.
    decision = StringField(validators=[InputRequired(), AnyOf(("accept", "decline"))])
    # The version the page showed: accepting records it only if it is still the one in force.
    version = HiddenField(validators=[Length(max=32)])
