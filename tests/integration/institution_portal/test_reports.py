"""Compliance reports through the portal's pages (Flask test client; the person signed in
as the callback would sign them in): the journey from a draft to a receipt and a correction,
and each case of issue 12's "Bad input and abuse" that touches reports, in French and English."""

from __future__ import annotations

import io
import re
import time

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from clients.institution_portal.db import db
from clients.institution_portal.reports.models import ComplianceReport, ReportVersion
from tests.institution_portal_reports_support import (
    NOW,
    ORG_A,
    ORG_B,
    add_institution_with_period,
    build_reports_portal,
    csv_bytes,
    row,
    sign_in,
    student,
)
from tests.support import FrozenClock

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
def app(tmp_path, clock):
    app = build_reports_portal(tmp_path / "portal.db", clock)
    with app.app_context():
        periods = (add_institution_with_period(db.session, ORG_A, "O100000000001"),
                   add_institution_with_period(db.session, ORG_B, "O100000000002"))
        db.session.commit()
        app.config["TEST_PERIODS"] = [period.id for period in periods]
    return app


def person(app, organization=ORG_A, role="primary", sub=None, language="en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return sign_in(app, client, organization, role, sub or f"{organization}-{role}")


def csrf(client, path="/reports") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def revision(client, report_id) -> str:
    html = client.get(f"/reports/{report_id}").get_data(as_text=True)
    return re.search(r'name="revision" (?:type="hidden" )?value="(\d+)"', html).group(1)


def start(app, client, index=0) -> str:
    response = client.post("/reports/start", data={"period": app.config["TEST_PERIODS"][index],
                                                   "csrf_token": csrf(client)})
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[1]


def upload(client, report_id, data: bytes, name="students.csv", rev=None):
    """The browser's multipart POST, encoded in memory (the test client would spool a large
    body to a temporary file that a refused request never reads nor closes)."""
    boundary, body = encode_multipart({
        "csrf_token": csrf(client, f"/reports/{report_id}/rows/new"), "revision": rev or revision(client, report_id),
        "file": FileStorage(io.BytesIO(data), filename=name, content_type="text/csv")})
    return client.post(f"/reports/{report_id}/upload", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def add(client, report_id, values, rev=None):
    return client.post(f"/reports/{report_id}/rows/new", data={
        **values, "csrf_token": csrf(client, f"/reports/{report_id}/rows/new"),
        "revision": rev or revision(client, report_id)})


def submit(client, report_id, rev=None):
    return client.post(f"/reports/{report_id}/submit", data={
        "csrf_token": csrf(client, f"/reports/{report_id}/rows/new"), "revision": rev or revision(client, report_id)})


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_report_from_a_csv_to_a_receipt_then_a_correction(app, clock):
    primary = person(app)
    assert "Prepare the report" in text(primary.get("/reports"))
    report_id = start(app, primary)
    response = upload(primary, report_id, csv_bytes([student(1), student(2)], bom=True))
    assert response.status_code == 302 and "uploaded=2" in response.headers["Location"]
    page = text(primary.get(response.headers["Location"]))
    assert "The file was read: the report now lists 2 students." in page and "S00002" in page
    assert "Submit the report" in text(primary.get(f"/reports/{report_id}/review"))

    response = submit(primary, report_id)
    assert response.status_code == 302
    receipt_page = text(primary.get(response.headers["Location"]))
    receipt = re.search(r"EED-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt_page).group(0)
    assert "Report submitted" in receipt_page
    assert app.extensions["institution_portal_report_notifier"].sent == [(ORG_A, receipt, 1)]
    assert receipt in text(primary.get("/reports"))

    clock.advance(days=2)
    primary = person(app)  # a new day, a new sign-in
    response = primary.post(f"/reports/{report_id}/correct", data={
        "csrf_token": csrf(primary, f"/reports/{report_id}/rows/new"), "revision": revision(primary, report_id)})
    assert response.status_code == 302
    assert "correction in progress (version 2)" in text(primary.get(f"/reports/{report_id}"))
    assert add(primary, report_id, student(3)).status_code == 302
    response = submit(primary, report_id)
    second = re.search(r"EED-[0-9A-Z]{4}-[0-9A-Z]{4}", text(primary.get(response.headers["Location"]))).group(0)
    assert second != receipt
    history = text(primary.get("/reports"))
    assert receipt in history and second in history and "Version 2" in history and "Version 1" in history
    with app.app_context():
        assert [len(v.rows) for v in db.session.query(ReportVersion).order_by(ReportVersion.number)] == [2, 3]


def test_the_template_downloads_in_the_page_language(app):
    for language, header in (("fr", "numero_etudiant,nom_de_famille"), ("en", "student_number,family_name")):
        response = person(app, language=language).get("/reports/template.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.data.decode("utf-8-sig").startswith(header)


def test_a_windows_1252_file_is_read(app):
    client = person(app)
    report_id = start(app, client)
    assert upload(client, report_id, csv_bytes([row(family_name="Côté")], encoding="cp1252")).status_code == 302
    assert "Côté" in text(client.get(f"/reports/{report_id}"))


# A user of institution A guessing B's ids

def test_institution_a_can_never_reach_b_s_report(app):
    owner = person(app, ORG_B)
    report_id = start(app, owner, index=1)
    add(owner, report_id, student(1))
    row_id = re.search(rf"/reports/{report_id}/rows/([\w-]+)\"", text(owner.get(f"/reports/{report_id}"))).group(1)
    intruder = person(app, ORG_A)
    token = csrf(intruder)
    for path in (f"/reports/{report_id}", f"/reports/{report_id}/review", f"/reports/{report_id}/versions/1",
                 f"/reports/{report_id}/versions/1/export.csv", f"/reports/{report_id}/rows/{row_id}",
                 f"/reports/{report_id}/rows/new"):
        assert intruder.get(path).status_code == 404, path
    for path in (f"/reports/{report_id}/submit", f"/reports/{report_id}/correct", f"/reports/{report_id}/upload",
                 f"/reports/{report_id}/rows/new", f"/reports/{report_id}/rows/{row_id}",
                 f"/reports/{report_id}/rows/{row_id}/remove"):
        assert intruder.post(path, data={"csrf_token": token, "revision": "2", **student(9)}).status_code == 404, path
    # B's period cannot be started by A either, and A's history does not list B's report.
    assert intruder.post("/reports/start", data={"period": app.config["TEST_PERIODS"][1], "csrf_token": token}).status_code == 404
    assert report_id not in text(intruder.get("/reports"))
    with app.app_context():
        report = db.session.query(ComplianceReport).one()
        assert report.organization_id == ORG_B and report.revision == 2 and report.versions[0].state == "draft"


# A secondary user submitting

@pytest.mark.parametrize(("language", "words"), [
    ("en", "Only the primary user can submit a report"),
    ("fr", "Seul l'utilisateur principal peut soumettre un rapport"),
])
def test_a_secondary_user_prepares_but_submitting_is_a_clear_403(app, language, words):
    secondary = person(app, role="secondary", language=language)
    report_id = start(app, secondary)
    assert add(secondary, report_id, student(1)).status_code == 302
    assert f'action="/reports/{report_id}/submit"' not in text(secondary.get(f"/reports/{report_id}/review"))
    response = secondary.post(f"/reports/{report_id}/submit", data={"csrf_token": csrf(secondary, f"/reports/{report_id}/rows/new"),
                                                                    "revision": revision(secondary, report_id)})
    assert response.status_code == 403 and words in text(response)
    with app.app_context():
        assert db.session.query(ReportVersion).one().state == "draft"


# Files too large: refused with a size message, quickly

@pytest.mark.parametrize(("language", "words"), [("en", "at most 2 MB"), ("fr", "au plus 2 Mo")])
def test_a_20_mb_file_is_refused_from_its_length_with_a_size_message(app, language, words):
    client = person(app, language=language)
    report_id = start(app, client)
    started = time.monotonic()
    response = upload(client, report_id, b"a" * (20 * 1024 * 1024))
    assert response.status_code == 413 and words in text(response)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("language", "words"), [("en", "at most 5000 students"), ("fr", "au plus 5000 étudiants")])
def test_a_50000_row_file_is_refused_with_a_row_message(tmp_path, clock, language, words):
    app = build_reports_portal(tmp_path / "big.db", clock, PORTAL_REPORT_MAX_BYTES=20 * 1024 * 1024)
    with app.app_context():
        period = add_institution_with_period(db.session, ORG_A, "O100000000001")
        db.session.commit()
        app.config["TEST_PERIODS"] = [period.id]
    client = person(app, language=language)
    report_id = start(app, client)
    line = b"S,T,,2003-05-14,12345678,F123456789,P,full_time,,\r\n"
    data = csv_bytes([]) + line * 50_000
    started = time.monotonic()
    response = upload(client, report_id, data)
    assert response.status_code == 413 and words in text(response)
    assert time.monotonic() - started < 10
    assert "S00001" not in text(client.get(f"/reports/{report_id}"))


def test_other_forms_keep_the_small_request_limit(app):
    client = person(app)
    report_id = start(app, client)
    response = client.post(f"/reports/{report_id}/rows/new", data={"csrf_token": csrf(client, f"/reports/{report_id}/rows/new"), "note": "x" * 200_000})
    assert response.status_code == 413 and "The request is too large or malformed." in text(response)
    assert "The file was refused" not in text(response)


# Every invalid row, with its line and reason, in the page's language; nothing saved

@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Line 3: The date of birth cannot be in the future.",
            "Line 4: The student number is already on line 2: a student appears once in a report.",
            "Line 5: The UCI must have 8 or 10 digits (hyphens and spaces are allowed)."]),
    ("fr", ["Ligne 3 : La date de naissance ne peut pas être dans l'avenir.",
            "Ligne 4 : Le numéro d'étudiant figure déjà à la ligne 2 : un étudiant ne figure qu'une fois dans un rapport.",
            "Ligne 5 : L'IUC doit compter 8 ou 10 chiffres (les traits d'union et les espaces sont acceptés)."]),
])
def test_an_upload_with_errors_lists_each_line_and_saves_nothing(app, language, expected):
    client = person(app, language=language)
    report_id = start(app, client)
    add(client, report_id, student(7))
    data = csv_bytes([student(1), student(2, date_of_birth="2027-01-01"), student(1, uci="99999999"),
                      student(4, uci="123")])
    response = upload(client, report_id, data)
    page = text(response).replace("&#39;", "'").replace("\u202f", " ").replace("\xa0", " ")
    assert response.status_code == 400
    for sentence in expected:
        assert sentence in page
    page = text(client.get(f"/reports/{report_id}"))
    assert "S00007" in page and "S00001" not in page


@pytest.mark.parametrize(("language", "words"), [
    ("en", "The date of birth cannot be in the future."),
    ("fr", "La date de naissance ne peut pas être dans l'avenir."),
])
def test_a_date_of_birth_in_the_future_is_refused_in_the_form(app, language, words):
    client = person(app, language=language)
    report_id = start(app, client)
    response = add(client, report_id, student(1, date_of_birth="2026-11-21", program="Génie civil"))
    page = text(response).replace("&#39;", "'")
    assert response.status_code == 400 and words in page and 'aria-invalid="true"' in page
    assert 'value="Génie civil"' in page  # what the person typed is kept


@pytest.mark.parametrize(("language", "words"), [
    ("en", "Another student in this report has this student number"),
    ("fr", "Un autre étudiant de ce rapport a ce numéro d'étudiant"),
])
def test_a_duplicate_student_in_one_report_is_refused_in_the_form(app, language, words):
    client = person(app, language=language)
    report_id = start(app, client)
    assert add(client, report_id, student(1)).status_code == 302
    response = add(client, report_id, student(1, uci="87654321"))
    assert response.status_code == 400 and words in text(response).replace("&#39;", "'")


# Formula injection exported back

def test_a_formula_uploaded_is_escaped_when_exported(app):
    client = person(app)
    report_id = start(app, client)
    upload(client, report_id, csv_bytes([row(program="=cmd|' /C calc'!A0", note="@SUM(1+1)")]))
    response = client.get(f"/reports/{report_id}/versions/1/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.data.decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in body and "'@SUM(1+1)" in body
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in body.splitlines() for cell in line.split(","))


# After the correction window

@pytest.mark.parametrize(("language", "words"), [
    ("en", "The correction period of this report is over"),
    ("fr", "La période de correction de ce rapport est terminée"),
])
def test_a_report_edited_after_the_correction_window_is_refused(app, clock, language, words):
    client = person(app, language=language)
    report_id = start(app, client)
    add(client, report_id, student(1))
    submit(client, report_id)
    clock.advance(days=9)
    client = person(app, language=language)  # a new day, a new sign-in
    client.post(f"/reports/{report_id}/correct", data={"csrf_token": csrf(client, f"/reports/{report_id}/rows/new"), "revision": revision(client, report_id)})
    rev = revision(client, report_id)
    clock.advance(days=1)
    client = person(app, language=language)
    response = add(client, report_id, student(2), rev=rev)
    assert response.status_code == 409 and words in text(response)
    response = upload(client, report_id, csv_bytes([student(3)]), rev=rev)
    assert response.status_code == 409 and words in text(response)
    with app.app_context():
        assert [len(v.rows) for v in db.session.query(ReportVersion).order_by(ReportVersion.number)] == [1, 1]
    # And a report whose window ended offers no correction.
    assert "/correct" not in text(client.get(f"/reports/{report_id}/versions/1"))


# A stale form after someone else submitted

@pytest.mark.parametrize(("language", "words"), [
    ("en", "Someone else submitted this report after you opened this page, so nothing was saved."),
    ("fr", "Quelqu'un d'autre a soumis ce rapport après que vous avez ouvert cette page : rien n'a été enregistré."),
])
def test_a_stale_form_after_someone_else_submitted_loses_nothing_typed(app, language, words):
    primary = person(app)
    secondary = person(app, role="secondary", language=language)
    report_id = start(app, primary)
    add(primary, report_id, student(1))
    opened = revision(secondary, report_id)
    token = csrf(secondary, f"/reports/{report_id}/rows/new")
    submit(primary, report_id)
    response = secondary.post(f"/reports/{report_id}/rows/new", data={
        **student(2, program="Typed with care", note="Keep me"), "csrf_token": token, "revision": opened})
    page = text(response).replace("&#39;", "'")
    assert response.status_code == 409 and words in page
    assert 'value="Typed with care"' in page and ">Keep me</textarea>" in page and 'value="S00002"' in page
    with app.app_context():
        assert [len(v.rows) for v in db.session.query(ReportVersion)] == [1]


def test_a_stale_form_after_someone_else_changed_the_draft_can_be_saved_again(app):
    first, second = person(app, sub="one"), person(app, role="secondary", sub="two")
    report_id = start(app, first)
    opened = revision(second, report_id)
    add(first, report_id, student(1))
    response = add(second, report_id, student(2, program="Mine"), rev=opened)
    page = text(response)
    assert response.status_code == 409 and "Someone else changed this report" in page and 'value="Mine"' in page
    fresh = re.search(r'name="revision" (?:type="hidden" )?value="(\d+)"', page).group(1)
    assert fresh != opened
    assert add(second, report_id, student(2, program="Mine"), rev=fresh).status_code == 302


def test_a_stale_submit_is_refused_with_a_clear_message(app):
    primary = person(app)
    report_id = start(app, primary)
    opened = revision(primary, report_id)
    add(person(app, role="secondary"), report_id, student(1))
    response = submit(primary, report_id, rev=opened)
    assert response.status_code == 409 and "so it was not submitted. Review it as it is now" in text(response)
    with app.app_context():
        assert db.session.query(ReportVersion).one().state == "draft"


def test_the_pages_need_a_signed_in_member_who_accepted_the_terms(app):
    assert app.test_client().get("/reports").headers["Location"] == "/login"
    client = sign_in(app, app.test_client(), ORG_A, "primary", "new-person", terms=False)
    assert client.get("/reports").headers["Location"] == "/terms"


@pytest.mark.parametrize(("language", "words"), [
    ("en", "so the file was not read. Check the report as it is now, then choose the file again."),
    ("fr", "le fichier n'a donc pas été lu. Vérifiez le rapport tel qu'il est maintenant, puis choisissez de nouveau le fichier."),
])
def test_a_stale_upload_reads_nothing_and_says_to_choose_the_file_again(app, language, words):
    first, second = person(app, sub="one"), person(app, role="secondary", sub="two", language=language)
    report_id = start(app, first)
    opened = revision(second, report_id)
    add(first, report_id, student(1))
    response = upload(second, report_id, csv_bytes([student(2), student(3)]), rev=opened)
    assert response.status_code == 409 and words in text(response).replace("&#39;", "'")
    page = text(second.get(f"/reports/{report_id}"))
    assert "S00001" in page and "S00002" not in page


def test_a_stale_removal_changes_nothing(app):
    first, second = person(app, sub="one"), person(app, role="secondary", sub="two")
    report_id = start(app, first)
    add(first, report_id, student(1))
    opened = revision(second, report_id)
    row_id = re.search(rf"/reports/{report_id}/rows/([\w-]+)/remove", text(second.get(f"/reports/{report_id}"))).group(1)
    add(first, report_id, student(2))
    response = second.post(f"/reports/{report_id}/rows/{row_id}/remove", data={
        "csrf_token": csrf(second, f"/reports/{report_id}/rows/new"), "revision": opened})
    assert response.status_code == 409 and "so nothing was changed" in text(response)
    assert "S00001" in text(second.get(f"/reports/{report_id}"))


def test_a_submission_stands_when_the_receipt_email_cannot_go(app, caplog):
    """The real notifier: Passerelle's organizations API is out of reach (nothing listens on
    the issuer's port), so the primary contact is unknown; the receipt is still given."""
    del app.extensions["institution_portal_report_notifier"]
    client = person(app)
    report_id = start(app, client)
    add(client, report_id, student(1))
    response = submit(client, report_id)
    assert response.status_code == 302
    assert "Report submitted" in text(client.get(response.headers["Location"]))
    assert "not emailed: ApiUnavailable" in caplog.text


def test_a_correction_can_be_discarded_and_one_not_submitted_in_time_says_so(app, clock):
    client = person(app)
    report_id = start(app, client)
    add(client, report_id, student(1))
    submit(client, report_id)
    token = csrf(client, f"/reports/{report_id}/rows/new")
    client.post(f"/reports/{report_id}/correct", data={"csrf_token": token, "revision": revision(client, report_id)})
    assert "Discard the correction and keep version 1" in text(client.get(f"/reports/{report_id}"))
    response = client.post(f"/reports/{report_id}/discard", data={"csrf_token": token,
                                                                  "revision": revision(client, report_id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{report_id}/versions/1")
    client.post(f"/reports/{report_id}/correct", data={"csrf_token": token, "revision": revision(client, report_id)})
    clock.advance(days=10)
    client = person(app)
    page = text(client.get(f"/reports/{report_id}"))
    assert "The correction period ended before this correction (version 2) was submitted" in page
    assert f'action="/reports/{report_id}/upload"' not in page and "Discard the correction" not in page
    assert "Correction not submitted in time" in text(client.get("/reports"))
    assert "/submit" not in text(client.get(f"/reports/{report_id}/review"))
    assert "Correction not submitted in time" in text(client.get(f"/reports/{report_id}/versions/2"))
