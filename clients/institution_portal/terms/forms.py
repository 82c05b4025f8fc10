"""The terms decision: accept or decline."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired


class TermsForm(FlaskForm):
    decision = HiddenField(validators=[InputRequired(), AnyOf(("accept", "decline"))])
