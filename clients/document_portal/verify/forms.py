"""The « Vérifier un document » form: CSRF and a file field (the service judges the file)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField


class VerifyForm(FlaskForm):
    pdf = FileField(_l("PDF file"))
