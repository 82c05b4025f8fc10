"""« Vérifier un document »: anyone uploads a PDF and learns whether this portal issued it,
whether it is unaltered and whether it was withdrawn. No account needed."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l

from clients.document_portal.verify.errors import (
    FileTooLarge,
    NoFile,
    NotAPdf,
    UnreadablePdf,
    VerifyError,
)
from clients.document_portal.verify.forms import VerifyForm
from clients.document_portal.verify.web import get_verify_service
from clients.document_portal.web import page, portal

bp = Blueprint("verify", __name__)

ERROR_MESSAGES = {
    NoFile: _l("Choose a PDF file to verify."),
    FileTooLarge: _l("The file is too large: the portal verifies PDF files of up to %(megabytes)s MB."),
    NotAPdf: _l("This file is not a PDF. Choose the PDF document you received."),
    UnreadablePdf: _l("This PDF cannot be read: it is damaged or protected by a password."),
}
ERROR_STATUS = {FileTooLarge: 413}


@bp.route("/verify", methods=["GET", "POST"])
def index():
    form = VerifyForm()
    max_bytes = portal().settings.DOCUMENT_PORTAL_MAX_PDF_BYTES
    if request.method == "POST":
        # Refused before the body is read: a 200 MB upload costs the portal nothing.
        if (request.content_length or 0) > max_bytes + 64 * 1024:
            return refused(form, FileTooLarge())
        if not form.validate_on_submit():
            return form_page(form, 400)
        upload = form.pdf.data
        try:
            verdict = get_verify_service().verify_upload(upload.read(max_bytes + 1) if upload else None)
        except VerifyError as error:
            return refused(form, error)
        return page("verify/result.html", verdict=verdict)
    return form_page(form)


def refused(form: VerifyForm, error: VerifyError):
    form.pdf.errors = [str(ERROR_MESSAGES[type(error)]) % {"megabytes": max_megabytes()}]
    return form_page(form, ERROR_STATUS.get(type(error), 422))


def form_page(form: VerifyForm, status: int = 200):
    return page("verify/index.html", status, form=form, max_megabytes=max_megabytes())


def max_megabytes() -> int:
    return max(1, portal().settings.DOCUMENT_PORTAL_MAX_PDF_BYTES // (1024 * 1024))
