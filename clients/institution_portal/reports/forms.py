"""The reports' forms: CSRF, the revision each form was built from (optimistic locking) and
the shape of what is sent. The rows' own checks are the service's (reports/rows.py), so the
form and a CSV line are checked alike."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from clients.institution_portal.reports.rows import FIELDS


class RevisionForm(FlaskForm):
    """Every form that changes a report: the revision it was built from."""

    revision = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])


class RowForm(RevisionForm):
    student_number = StringField()
    family_name = StringField()
    given_names = StringField()
    date_of_birth = StringField()
    uci = StringField()
    permit_number = StringField()
    program = StringField()
    status = StringField()
    status_date = StringField()
    note = TextAreaField()

    def values(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in FIELDS}


class UploadForm(RevisionForm):
    file = FileField()


class StartForm(FlaskForm):
    period = HiddenField(validators=[InputRequired()])
