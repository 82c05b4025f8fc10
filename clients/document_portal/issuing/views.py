"""Issuing pages for staff of an issuing organization (signed in with two-factor): the
school's documents, issue one, bulk issue, withdraw, export. Every action is scoped by the
session's organization (issuing/services.py)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from clients.document_portal.db import db
from clients.document_portal.errors import (
    AlreadyWithdrawn,
    ApiNotAllowed,
    ApiRateLimited,
    ApiRefused,
    ApiUnavailable,
    BulkRefused,
    DocumentNotFound,
    InvalidField,
    InvitationsApiError,
)
from clients.document_portal.issuing import bulk
from clients.document_portal.issuing.forms import BulkForm, IssueForm, WithdrawForm
from clients.document_portal.issuing.services import (
    DocumentRequest,
    IssuingService,
    Staff,
    clean,
    clean_text,
    parse_courses,
)
from clients.document_portal.mail import tell_learner_of_withdrawal
from clients.document_portal.signing.errors import (
    CredentialsError,
    NoSignerForOrganization,
    PdfRefused,
    SignerNotTrusted,
    SigningError,
    TimestampUnavailable,
)
from clients.document_portal.signing.transcript import TranscriptData
from clients.document_portal.web import (
    current_portal_session,
    page,
    portal,
    staff_required,
)
from clients.portal_kit.mail import MailError
from clients.portal_kit.spreadsheet import csv_bytes

bp = Blueprint("issuing", __name__, url_prefix="/issuing")

FIELD_MESSAGES = {
    "missing": _l("This field is required."),
    "too_long": _l("This is too long."),
    "characters": _l("Remove the markup, control or invisible characters."),
    "markup": _l("Enter an email address only, without a name, markup or spaces."),
    "email": _l("Enter an email address such as name@example.ca."),
    "choice": _l("Choose one of the options."),
    "course_line": _l("Write each course on its own line as: code; title; grade; credits; term."),
    "missing_file": _l("The ZIP file has no PDF of that name."),
    "file_twice": _l("Each PDF may be used for one line only."),
    "csv_size": _l("Choose a CSV file of up to 1 MB."),
    "csv_encoding": _l("Save the CSV file as UTF-8."),
    "csv_unreadable": _l("The CSV file cannot be read."),
    "csv_columns": _l("The CSV file's first line must name the columns: %(columns)s."),
    "csv_empty": _l("The CSV file has no document."),
    "csv_rows": _l("A CSV file may hold up to %(rows)s documents."),
    "zip_unreadable": _l("Choose a ZIP file that holds the PDF files (not encrypted)."),
    "zip_members": _l("The ZIP file holds too many files."),
    "zip_names": _l("Put the PDF files at the top of the ZIP file, each once, without folders."),
    "zip_size": _l("A PDF file in the ZIP file, or the ZIP file as a whole, is too large."),
}
PDF_MESSAGES = {
    "empty": _l("The file is empty."),
    "too_large": _l("The PDF file is too large: up to %(megabytes)s MB."),
    "not_pdf": _l("This file is not a PDF."),
    "unparseable": _l("This PDF file cannot be read. Export it again from its application."),
    "encrypted": _l("This PDF file is encrypted or password-protected. Export it again without protection."),
    "javascript": _l("This PDF file contains JavaScript. Export it again without scripts."),
    "embedded_files": _l("This PDF file contains attached files. Export it again without attachments."),
    "active_content": _l("This PDF file contains interactive or multimedia content. Export it again as a plain "
                         "document."),
}
FIELD_LABELS = {
    "kind": _l("Type of document"), "title_fr": _l("Name of the document in French"),
    "title_en": _l("Name of the document in English"), "given_name": _l("Learner's given name"),
    "family_name": _l("Learner's family name"), "email": _l("Learner's email address"),
    "locale": _l("Language of the learner's email"), "contact_email": _l("School's address for questions"),
    "file": _l("PDF file"), "csv": _l("CSV file"), "zip": _l("ZIP file"), "courses": _l("Courses"),
}
TROUBLE_MESSAGES = {
    NoSignerForOrganization: _l("No signing certificate is set up for your school yet: the portal's operator must "
                                "add it. Nothing was issued."),
    SignerNotTrusted: _l("Your school's signing certificate is not trusted by the portal (its authority is not "
                         "among the trust roots, or it expired): the portal's operator must check it. Nothing was "
                         "issued."),
    CredentialsError: _l("Your school's signing certificate cannot be opened: the portal's operator must check it. "
                         "Nothing was issued."),
    TimestampUnavailable: _l("The timestamp service did not answer. Nothing was issued: try again in a few "
                             "minutes."),
    SigningError: _l("The document could not be signed. Nothing was issued."),
    ApiUnavailable: _l("Passerelle cannot be reached right now, so the learner cannot be told. Nothing was issued: "
                       "try again in a few minutes."),
    ApiNotAllowed: _l("Passerelle refused the portal's credentials for invitations: the portal's operator must fix "
                      "its registration. Nothing was issued."),
    ApiRateLimited: _l("Passerelle is receiving too many invitations right now. Try again in a few minutes."),
    ApiRefused: _l("Passerelle refused to invite this address. Check the learner's email address."),
}


def staff() -> Staff:
    person = current_portal_session()
    return Staff(sub=person.sub, organization_id=person.organization_id,
                 organization_number=person.organization_number or "",
                 organization_name_fr=person.organization_name_fr or "",
                 organization_name_en=person.organization_name_en or "")


def get_issuing_service() -> IssuingService:
    app = portal()
    return IssuingService(db.session, app.signing, app.invitations, app.clock)


def field_message(reason: str):
    megabytes = portal().settings.DOCUMENT_PORTAL_MAX_PDF_BYTES // (1024 * 1024)
    if reason.startswith("pdf_"):
        return PDF_MESSAGES.get(reason[4:], PDF_MESSAGES["unparseable"]) % {"megabytes": megabytes}
    return FIELD_MESSAGES.get(reason, FIELD_MESSAGES["missing"]) % {
        "columns": ", ".join(bulk.COLUMNS), "rows": bulk.MAX_ROWS}


def trouble_message(error: Exception):
    for kind, message in TROUBLE_MESSAGES.items():
        if isinstance(error, kind):
            return message
    return TROUBLE_MESSAGES[SigningError]


def too_large(limit: int) -> bool:
    """A body over the limit is refused before it is read (the app's MAX_CONTENT_LENGTH is
    the last guard; this one names the right limit)."""
    return (request.content_length or 0) > limit + 64 * 1024


@bp.get("")
@staff_required
def index():
    return page("issuing/index.html", documents=get_issuing_service().list(staff()))


@bp.get("/export.csv")
@staff_required
def export():
    """The school's documents as CSV (cells that a spreadsheet would run are neutralised)."""
    rows = [(document.issued_at.isoformat(), document.kind, document.title_fr, document.title_en,
             document.learner_given_name, document.learner_family_name, document.learner_email, document.state,
             "yes" if document.learner_sub else "no", document.public_id, document.withdrawal_reason or "")
            for document in get_issuing_service().list(staff())]
    header = ("issued_at", "kind", "title_fr", "title_en", "given_name", "family_name", "email", "state",
              "received", "id", "withdrawal_reason")
    return Response(csv_bytes(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="documents.csv"'})


@bp.get("/bulk/template.csv")
@staff_required
def template():
    example = ("zoe.citoyenne@example.ca", "Zoé", "Citoyenne", "fr", "transcript", "Relevé de notes", "Transcript",
               "zoe-citoyenne.pdf")
    return Response(csv_bytes(bulk.COLUMNS, [example]), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="documents-template.csv"'})


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    service = get_issuing_service()
    form = IssueForm()
    if request.method == "GET":
        form.contact_email.data = service.last_contact_email(staff()) or ""
        return issue_page(form)
    if too_large(portal().settings.DOCUMENT_PORTAL_MAX_PDF_BYTES):
        form.pdf.errors = [field_message("pdf_too_large")]
        return issue_page(form, 413)
    if not form.validate_on_submit():
        return issue_page(form, 400)
    document_request = DocumentRequest(
        kind=form.kind.data, title_fr=form.title_fr.data, title_en=form.title_en.data,
        given_name=form.given_name.data, family_name=form.family_name.data, email=form.email.data,
        locale=form.locale.data, contact_email=form.contact_email.data)
    try:
        document_request = clean(document_request)  # before anything is rendered or signed
        pdf = the_pdf(form, service)
        document = service.issue(staff(), document_request, pdf)
    except InvalidField as error:
        getattr(form, error.field if error.field in form else "pdf").errors = [field_message(error.reason)]
        return issue_page(form, 400)
    except PdfRefused as error:
        form.pdf.errors = [field_message(f"pdf_{error.reason.value}")]
        return issue_page(form, 400)
    except (SigningError, InvitationsApiError) as error:
        db.session.rollback()
        current_app.logger.warning("document not issued: %r", error)
        return issue_page(form, 503 if isinstance(error, ApiUnavailable | TimestampUnavailable) else 400,
                          trouble=trouble_message(error))
    db.session.commit()
    return redirect(url_for("issuing.show", public_id=document.public_id, issued=1))


def the_pdf(form: IssueForm, service: IssuingService) -> bytes:
    """The uploaded PDF, or the transcript rendered from the form. Raises InvalidField."""
    if form.source.data == "transcript":
        person = current_portal_session()
        transcript = TranscriptData(
            school_name=person.organization_name(form.locale.data),
            learner_name=f"{form.given_name.data.strip()} {form.family_name.data.strip()}",
            program=clean_text("program", form.program.data), courses=parse_courses(form.courses.data),
            issued_on=portal().clock().date(),
            learner_number=clean_text("learner_number", form.learner_number.data) if form.learner_number.data else "")
        return service.render(transcript, form.locale.data)
    upload = form.pdf.data
    if not upload or not getattr(upload, "filename", None):
        raise InvalidField("pdf", "missing")
    return upload.read(portal().settings.DOCUMENT_PORTAL_MAX_PDF_BYTES + 1)


def issue_page(form: IssueForm, status: int = 200, trouble=None):
    return page("issuing/new.html", status, form=form, trouble=trouble,
                max_megabytes=portal().settings.DOCUMENT_PORTAL_MAX_PDF_BYTES // (1024 * 1024))


@bp.get("/<public_id>")
@staff_required
def show(public_id: str):
    return document_page(own_document(public_id), WithdrawForm())


def own_document(public_id: str):
    try:
        return get_issuing_service().get(staff(), public_id)
    except DocumentNotFound:
        abort(404)


def document_page(document, form: WithdrawForm, status: int = 200):
    return page("issuing/document.html", status, document=document, form=form,
                issued=request.args.get("issued") == "1", withdrawn=request.args.get("withdrawn"),
                issued_at=format_datetime(document.issued_at, "medium"))


@bp.post("/<public_id>/withdraw")
@staff_required
def withdraw(public_id: str):
    form = WithdrawForm()
    document = own_document(public_id)
    if not form.validate_on_submit():
        return document_page(document, form, 400)
    try:
        withdrawn = get_issuing_service().withdraw(staff(), public_id, form.reason.data)
    except InvalidField as error:
        form.reason.errors = [field_message(error.reason)]
        return document_page(document, form, 400)
    except AlreadyWithdrawn:
        db.session.rollback()
        return redirect(url_for("issuing.show", public_id=public_id))
    db.session.commit()
    try:
        told = tell_learner_of_withdrawal(withdrawn, portal().settings, portal().clock)
    except MailError as error:
        current_app.logger.warning("withdrawal email not sent: %r", error)
        told = False
    return redirect(url_for("issuing.show", public_id=public_id, withdrawn="told" if told else "untold"))


@bp.route("/bulk", methods=["GET", "POST"])
@staff_required
def bulk_issue():
    settings = portal().settings
    service = get_issuing_service()
    form = BulkForm()
    if request.method == "GET":
        form.contact_email.data = service.last_contact_email(staff()) or ""
        return bulk_page(form)
    if too_large(settings.DOCUMENT_PORTAL_MAX_BULK_BYTES):
        return bulk_page(form, 413, problems=[(0, "zip", "zip_size")])
    if not form.validate_on_submit():
        return bulk_page(form, 400)
    if not form.csv_file.data or not form.zip_file.data:
        return bulk_page(form, 400, problems=[(0, "csv" if not form.csv_file.data else "zip", "missing")])
    try:
        rows = bulk.check_batch(
            form.csv_file.data.read(bulk.MAX_CSV_BYTES + 1), form.zip_file.data.read(settings.DOCUMENT_PORTAL_MAX_BULK_BYTES + 1),
            form.contact_email.data, portal().signing.check, settings.DOCUMENT_PORTAL_MAX_PDF_BYTES,
            settings.DOCUMENT_PORTAL_MAX_BULK_BYTES)
    except BulkRefused as error:
        return bulk_page(form, 400, problems=error.problems)
    issued = []
    try:
        for row in rows:
            document = service.issue(staff(), row.request, row.pdf)
            db.session.commit()  # each document is issued (and its learner told) on its own
            issued.append((row.line, document))
    except (InvalidField, PdfRefused, SigningError, InvitationsApiError) as error:
        db.session.rollback()
        current_app.logger.warning("bulk issue stopped: %r", error)
        return bulk_page(form, 503, issued=issued, stopped_at=row.line, trouble=trouble_message(error))
    return bulk_page(form, issued=issued)


def bulk_page(form: BulkForm, status: int = 200, problems=(), issued=None, stopped_at=None, trouble=None):
    described = [(line, FIELD_LABELS.get(field, field), field_message(reason)) for line, field, reason in problems]
    return page("issuing/bulk.html", status, form=form, problems=described, issued=issued, stopped_at=stopped_at,
                trouble=trouble, columns=bulk.COLUMNS, max_rows=bulk.MAX_ROWS)
