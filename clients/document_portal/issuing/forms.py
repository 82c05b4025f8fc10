"""Issuing forms: shape only (CSRF, choices, lengths); issuing/services.py checks the
content (markup in an address, control characters, the PDF itself)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

KIND_CHOICES = [SelectChoice("transcript", _l("Transcript")), SelectChoice("diploma", _l("Diploma")),
                SelectChoice("attestation", _l("Attestation"))]
LOCALE_CHOICES = [SelectChoice("fr", _l("French")), SelectChoice("en", _l("English"))]
SOURCE_CHOICES = [SelectChoice("upload", _l("Upload the school's PDF")),
                  SelectChoice("transcript", _l("Fill in a transcript"))]


def required(message):
    return [InputRequired(message=message)]


class IssueForm(FlaskForm):
    kind = SelectField(_l("Type of document"), choices=KIND_CHOICES, default="transcript")
    title_fr = StringField(_l("Name of the document in French"), default="Relevé de notes",
                           validators=[*required(_l("Enter the name of the document in French.")), Length(max=200)])
    title_en = StringField(_l("Name of the document in English"), default="Transcript",
                           validators=[*required(_l("Enter the name of the document in English.")), Length(max=200)])
    given_name = StringField(_l("Learner's given name"),
                             validators=[*required(_l("Enter the learner's given name.")), Length(max=100)])
    family_name = StringField(_l("Learner's family name"),
                              validators=[*required(_l("Enter the learner's family name.")), Length(max=100)])
    email = StringField(_l("Learner's email address"),
                        validators=[*required(_l("Enter the learner's email address.")), Length(max=254)])
    locale = RadioField(_l("Language of the learner's email"), choices=LOCALE_CHOICES, default="fr")
    contact_email = StringField(_l("School's address for questions"),
                                validators=[*required(_l("Enter the address learners can write to with questions.")),
                                            Length(max=254)])
    source = RadioField(_l("The document"), choices=SOURCE_CHOICES, default="upload")
    pdf = FileField(_l("PDF file"))
    program = StringField(_l("Program"), validators=[Optional(), Length(max=200)])
    learner_number = StringField(_l("Learner number"), validators=[Optional(), Length(max=40)])
    courses = TextAreaField(_l("Courses, one per line: code; title; grade; credits; term"),
                            validators=[Optional(), Length(max=20000)])


class BulkForm(FlaskForm):
    contact_email = StringField(_l("School's address for questions"),
                                validators=[*required(_l("Enter the address learners can write to with questions.")),
                                            Length(max=254)])
    csv_file = FileField(_l("CSV file (one line per document)"))
    zip_file = FileField(_l("ZIP file of the PDFs the CSV names"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the withdrawal (the learner will read it)"),
                           validators=[DataRequired(message=_l("Say why the document is withdrawn.")),
                                       Length(max=1000)])
