"""Compliance reports' pages: the periods and the history, a report's draft (rows from the
form or a CSV file), review, submit (primary user only), the receipt, corrections and the
CSV export. Thin: the rules are ReportService's. Every id in a URL is a random public id and
every lookup is scoped by the session's institution: anything else is a 404."""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from clients.institution_portal.access import member_required as portal_member_required
from clients.institution_portal.db import db
from clients.institution_portal.periods.services import PeriodService
from clients.institution_portal.reports import csv_format
from clients.institution_portal.reports.errors import (
    CorrectionWindowClosed,
    NotADraft,
    NotPrimary,
    PeriodNotFound,
    ReportNotFound,
    RowInvalid,
    StaleReport,
    TooManyRows,
    UploadInvalid,
)
from clients.institution_portal.reports.forms import (
    RevisionForm,
    RowForm,
    StartForm,
    UploadForm,
)
from clients.institution_portal.reports.messages import (
    FIELD_LABELS,
    STATUS_LABELS,
    describe,
)
from clients.institution_portal.reports.models import DRAFT
from clients.institution_portal.reports.notify import EmailNotifier
from clients.institution_portal.reports.rows import (
    FIELDS,
    NEEDS_DATE,
    NEEDS_NOTE,
    STATUSES,
    Problem,
)
from clients.institution_portal.reports.services import Actor, ReportService, rows_of
from clients.institution_portal.web import current_portal_session, locale, page, portal

bp = Blueprint("reports", __name__, url_prefix="/reports")
log = logging.getLogger(__name__)

STALE = _l("Someone else changed this report after you opened this page, so nothing was saved. What you "
           "entered is still below: check the report, then save again.")
STALE_SUBMITTED = _l("Someone else submitted this report after you opened this page, so nothing was saved. "
                     "What you entered is still below; to change the report, start a correction.")
# A stale action that typed nothing (upload, remove, correct), and a stale submission.
STALE_ACTION = _l("Someone else changed or submitted this report after you opened this page, so nothing was "
                  "changed. Check the report as it is now, then try again.")
STALE_UPLOAD = _l("Someone else changed or submitted this report after you opened this page, so the file was not "
                  "read. Check the report as it is now, then choose the file again.")
STALE_REVIEW = _l("Someone else changed this report after you opened this page, so it was not submitted. Review "
                  "it as it is now, then submit it.")
NOT_A_DRAFT = _l("This report is submitted: to change it, start a correction.")
WINDOW_CLOSED = _l("The correction period of this report is over: it can no longer be changed.")
TOO_MANY_ROWS = _l("This report already lists the most students a report may hold (%(max)s).")
# What a multipart upload adds around the file itself (boundaries, headers, the CSRF token).
UPLOAD_ENVELOPE = 64 * 1024


def get_report_service() -> ReportService:
    return ReportService(db.session, portal().settings, portal().clock, notifier=get_notifier())


def get_notifier():
    """The primary contact's receipt email (tests replace it in app.extensions)."""
    found = current_app.extensions.get("institution_portal_report_notifier")
    if found is None:
        # The users pages' client of the organizations API: one token cache per process.
        from clients.institution_portal.users.web import get_organizations_api

        found = EmailNotifier.from_settings(portal().settings, portal().clock, get_organizations_api())
    return found


def period_service() -> PeriodService:
    return PeriodService(db.session, portal().settings, portal().clock)


def actor() -> Actor:
    person = current_portal_session()
    return Actor(organization_id=person.organization_id, sub=person.sub, role=person.role)


def member_required(view):
    """Signed in and the portal's terms accepted; a report of another institution is a 404."""

    @wraps(view)
    @portal_member_required
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except (ReportNotFound, PeriodNotFound):
            db.session.rollback()
            abort(404)

    return wrapped


def raise_upload_limit():
    """Before CSRFProtect reads the form (app-wide limit: 64 KB): the upload route reads up
    to PORTAL_REPORT_MAX_BYTES plus the multipart envelope; anything larger is refused from
    its Content-Length, before its body is read."""
    if request.endpoint == "reports.upload":
        request.max_content_length = portal().settings.PORTAL_REPORT_MAX_BYTES + UPLOAD_ENVELOPE


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_error):
    """The upload's size message; any other form of these pages gets the portal's page."""
    if request.endpoint != "reports.upload":
        return page("error.html", 413, kind="bad_request")
    limits = get_report_service().limits
    problem = Problem("file_too_large", None, {"max_mb": csv_format.megabytes(limits.max_bytes)})
    report_id = (request.view_args or {}).get("report_id")
    return page("reports/file_refused.html", 413, message=describe(problem, locale()),
                back_url=url_for("reports.show", report_id=report_id) if report_id else url_for("reports.index"))


# The list of periods and the history

@bp.get("")
@member_required
def index():
    service = get_report_service()
    me = actor()
    today = service.today()
    reports = service.history(me)
    by_period = {report.period_id: report for report in reports}
    periods = period_service().periods_of(me.organization_id)
    opened = [(period, by_period.get(period.id)) for period in periods if period.opens_on <= today]
    return page("reports/index.html", periods=opened, reports=reports, today=today, service=service,
                row_counts=service.row_counts(reports),
                period_of={period.id: period for period in periods}, start_form=StartForm())


@bp.post("/start")
@member_required
def start():
    form = StartForm()
    if not form.validate_on_submit() or not form.period.data.isdigit():
        abort(400)
    period = period_service().find(actor().organization_id, int(form.period.data))
    if period is None or period.opens_on > period_service().today():
        abort(404)
    report = get_report_service().open(actor(), period.id)
    db.session.commit()
    return redirect(url_for("reports.show", report_id=report.public_id))


# A report

def report_page(report, status: int = 200, *, row_errors=None, upload_errors=None, message=None):
    service = get_report_service()
    version = service.current(report)
    lapsed = service.lapsed(version)
    return page("reports/report.html", status, report=report, version=version, period=period_named(report),
                service=service, is_draft=version.state == DRAFT and not lapsed, lapsed=lapsed,
                last_submitted=service.last_submitted(report), upload_form=UploadForm(formdata=None, revision=report.revision),
                action_form=RevisionForm(formdata=None, revision=report.revision), upload_errors=upload_errors or [],
                message=message, person=current_portal_session(), status_labels=STATUS_LABELS,
                max_mb=csv_format.megabytes(service.limits.max_bytes), max_rows=service.limits.max_rows)


def period_named(report):
    return period_service().find(report.organization_id, report.period_id)


@bp.get("/<report_id>")
@member_required
def show(report_id: str):
    return report_page(get_report_service().get(actor(), report_id))


@bp.route("/<report_id>/rows/new", methods=["GET", "POST"], endpoint="add_row")
@bp.route("/<report_id>/rows/<row_id>", methods=["GET", "POST"], endpoint="edit_row")
@member_required
def row_form(report_id: str, row_id: str | None = None):
    service = get_report_service()
    report = service.get(actor(), report_id)
    stored = service.row(actor(), report_id, row_id) if row_id else None
    if request.method == "GET":
        data = {name: _form_value(getattr(stored, name)) for name in FIELDS} if stored else {}
        form = RowForm(formdata=None, revision=report.revision, **data)
        return row_page(report, form, stored)
    form = RowForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if stored is None:
            service.add_row(actor(), report_id, form.revision.data, form.values())
        else:
            service.update_row(actor(), report_id, row_id, form.revision.data, form.values())
    except RowInvalid as error:
        db.session.rollback()
        return row_page(report, form, stored, 400, problems=error.problems)
    except StaleReport as error:
        db.session.rollback()
        form.revision.data, form.revision.raw_data = error.current_revision, [str(error.current_revision)]
        return row_page(report, form, stored, 409, message=STALE_SUBMITTED if error.submitted else STALE)
    except (NotADraft, CorrectionWindowClosed, TooManyRows) as error:
        db.session.rollback()
        return row_page(report, form, stored, 409, message=refusal(error))
    db.session.commit()
    return redirect(url_for("reports.show", report_id=report.public_id) + "#students")


def row_page(report, form, stored, status: int = 200, *, problems=(), message=None):
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field, []).append(describe(problem, locale()))
    return page("reports/row_form.html", status, report=report, form=form, row=stored, errors=errors,
                problems=[(problem.field, describe(problem, locale())) for problem in problems], message=message,
                field_labels=FIELD_LABELS, status_labels=STATUS_LABELS, statuses=STATUSES,
                needs_date=NEEDS_DATE, needs_note=NEEDS_NOTE)


def posted(report_id: str, form_class=RevisionForm):
    """A POST on a report: the service, the institution's report (else 404) and the form
    (else 400: no CSRF token or no revision)."""
    service = get_report_service()
    report = service.get(actor(), report_id)
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    return service, report, form


# Refusals that leave the report as it was: the page again, 409, saying why.
REFUSED = (StaleReport, NotADraft, CorrectionWindowClosed)


def refused(service, report_id: str, error: Exception, render=None, stale_message=STALE_ACTION):
    db.session.rollback()
    return (render or report_page)(service.get(actor(), report_id), 409, message=refusal(error, stale_message))


@bp.post("/<report_id>/rows/<row_id>/remove")
@member_required
def remove_row(report_id: str, row_id: str):
    service, report, form = posted(report_id)
    try:
        service.remove_row(actor(), report_id, row_id, form.revision.data)
    except REFUSED as error:
        return refused(service, report_id, error)
    db.session.commit()
    return redirect(url_for("reports.show", report_id=report.public_id) + "#students")


@bp.post("/<report_id>/upload")
@member_required
def upload(report_id: str):
    service, report, form = posted(report_id, UploadForm)
    try:
        if not form.file.data:
            raise UploadInvalid([(0, Problem("file_empty"))])
        count = service.replace_rows(actor(), report_id, form.revision.data,
                                     csv_format.read_limited(form.file.data.stream, service.limits))
    except UploadInvalid as error:
        db.session.rollback()
        problems = [(line, describe(problem, locale())) for line, problem in error.problems]
        return report_page(report, 413 if _too_big(error) else 400, upload_errors=problems)
    except REFUSED as error:
        return refused(service, report_id, error, stale_message=STALE_UPLOAD)
    db.session.commit()
    return redirect(url_for("reports.show", report_id=report.public_id, uploaded=count) + "#students")


def _too_big(error: UploadInvalid) -> bool:
    return any(problem.code in ("file_too_large", "file_too_many_rows") for _line, problem in error.problems)


@bp.get("/template.csv")
@member_required
def template():
    return csv_response(csv_format.template(locale()), "template-rapport-eed.csv" if locale() == "fr"
                        else "dli-report-template.csv")


# Review, submit, receipt, corrections, export

@bp.get("/<report_id>/review")
@member_required
def review(report_id: str):
    report = get_report_service().get(actor(), report_id)
    return review_page(report)


def review_page(report, status: int = 200, message=None):
    service = get_report_service()
    return page("reports/review.html", status, report=report, version=service.current(report),
                lapsed=service.lapsed(service.current(report)),
                period=period_named(report), form=RevisionForm(formdata=None, revision=report.revision),
                person=current_portal_session(), status_labels=STATUS_LABELS, message=message)


@bp.post("/<report_id>/submit")
@member_required
def submit(report_id: str):
    service, report, form = posted(report_id)
    try:
        version = service.submit(actor(), report_id, form.revision.data)
    except NotPrimary:
        db.session.rollback()
        return page("reports/forbidden.html", 403, report=report)
    except REFUSED as error:
        return refused(service, report_id, error, review_page, stale_message=STALE_REVIEW)
    db.session.commit()
    service.announce(report, version)
    return redirect(url_for("reports.version", report_id=report.public_id, number=version.number, submitted=1))


@bp.get("/<report_id>/versions/<int:number>")
@member_required
def version(report_id: str, number: int):
    service = get_report_service()
    found = service.version(actor(), report_id, number)
    return page("reports/version.html", report=found.report, version=found, period=period_named(found.report),
                just_submitted=request.args.get("submitted") == "1", status_labels=STATUS_LABELS,
                can_correct=service.can_correct(found.report) and found is service.current(found.report),
                lapsed=service.lapsed(found),
                deadline=service.correction_deadline(found.report),
                action_form=RevisionForm(formdata=None, revision=found.report.revision))


@bp.get("/<report_id>/versions/<int:number>/export.csv")
@member_required
def export(report_id: str, number: int):
    found = get_report_service().version(actor(), report_id, number)
    name = f"report-{found.receipt_number or 'draft'}-v{found.number}.csv"
    return csv_response(csv_format.export(rows_of(found), locale()), name)


@bp.post("/<report_id>/correct")
@member_required
def correct(report_id: str):
    service, report, form = posted(report_id)
    try:
        service.start_correction(actor(), report_id, form.revision.data)
    except REFUSED as error:
        return refused(service, report_id, error)
    db.session.commit()
    return redirect(url_for("reports.show", report_id=report.public_id))


@bp.post("/<report_id>/discard")
@member_required
def discard(report_id: str):
    service, report, form = posted(report_id)
    try:
        kept = service.discard_correction(actor(), report_id, form.revision.data)
    except REFUSED as error:
        return refused(service, report_id, error)
    db.session.commit()
    return redirect(url_for("reports.version", report_id=report.public_id, number=kept.number))


def refusal(error: Exception, stale_message=STALE_ACTION) -> str:
    if isinstance(error, StaleReport):
        return str(STALE_ACTION if error.submitted else stale_message)
    if isinstance(error, CorrectionWindowClosed):
        return str(WINDOW_CLOSED)
    if isinstance(error, TooManyRows):
        return str(TOO_MANY_ROWS) % {"max": portal().settings.PORTAL_REPORT_MAX_ROWS}
    return str(NOT_A_DRAFT)


def csv_response(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _form_value(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
