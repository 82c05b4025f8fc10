"""The report's CSV format (reports/csv_format.py, reports/rows.py), without Flask: the
encodings Excel saves (UTF-8 with or without BOM, Windows-1252), comma or semicolon, every
row check with its problem code and line, duplicates, the size and row limits (refused
early, not timed out), and formula-injection escaping on export."""

from __future__ import annotations

import time
from datetime import date

import pytest

from clients.institution_portal.reports import csv_format
from clients.institution_portal.reports.errors import UploadInvalid
from clients.institution_portal.reports.rows import clean_row, escape_cell
from tests.institution_portal_reports_support import VALID, csv_bytes, row, student

TODAY = date(2026, 11, 20)
LIMITS = csv_format.Limits(max_bytes=2 * 1024 * 1024, max_rows=5000)


def problems_of(data: bytes, limits=LIMITS) -> list[tuple[int, str, str | None]]:
    with pytest.raises(UploadInvalid) as refused:
        csv_format.parse(data, limits, TODAY)
    return [(line, problem.code, problem.field) for line, problem in refused.value.problems]


def test_the_template_reads_back_in_both_languages():
    for language in ("en", "fr"):
        rows = csv_format.parse(csv_format.template(language).encode("utf-8"), LIMITS, TODAY)
        assert [line for line, _row in rows] == [2, 3]
        assert rows[1][1].status == "authorized_leave" and rows[1][1].status_date == date(2026, 9, 15)


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1252", False)])
def test_utf8_with_or_without_bom_and_windows_1252_are_read(encoding, bom):
    data = csv_bytes([row(family_name="Bélanger-Côté", given_names="Zoë")], encoding=encoding, bom=bom)
    [(line, read)] = csv_format.parse(data, LIMITS, TODAY)
    assert (line, read.family_name, read.given_names) == (2, "Bélanger-Côté", "Zoë")


def test_a_file_neither_utf8_nor_windows_1252_is_refused():
    data = csv_bytes([row()]) + b"\x81\x8d\xff\xfe"
    assert problems_of(data) == [(0, "file_encoding", None)]


def test_semicolons_as_french_excel_saves_and_french_headers_and_statuses():
    data = csv_bytes([row(status="temps_partiel")], language="fr", delimiter=";")
    [(_line, read)] = csv_format.parse(data, LIMITS, TODAY)
    assert read.status == "part_time"


def test_uci_and_permit_are_normalised():
    [(_line, read)] = csv_format.parse(csv_bytes([row(uci="12-3456-7890", permit_number="f 123456789")]), LIMITS, TODAY)
    assert (read.uci, read.permit_number) == ("1234567890", "F123456789")


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"student_number": ""}, "required", "student_number"),
    ({"family_name": ""}, "required", "family_name"),
    ({"program": ""}, "required", "program"),
    ({"status": ""}, "required", "status"),
    ({"student_number": "S 1/2"}, "student_number_format", "student_number"),
    ({"student_number": "S" * 21}, "too_long", "student_number"),
    ({"note": "x" * 501}, "too_long", "note"),
    ({"uci": "1234567"}, "uci_format", "uci"),
    ({"uci": "123456789"}, "uci_format", "uci"),
    ({"uci": "12345678901"}, "uci_format", "uci"),
    ({"uci": "ABCDEFGH"}, "uci_format", "uci"),
    ({"permit_number": "123456789"}, "permit_format", "permit_number"),
    ({"permit_number": "F12345678"}, "permit_format", "permit_number"),
    ({"date_of_birth": "14/05/2003"}, "date_format", "date_of_birth"),
    ({"date_of_birth": "2003-02-30"}, "date_format", "date_of_birth"),
    ({"date_of_birth": "2026-11-21"}, "birth_in_future", "date_of_birth"),
    ({"date_of_birth": "1899-12-31"}, "birth_too_old", "date_of_birth"),
    ({"status": "enrolled"}, "status_unknown", "status"),
    ({"status": "completed"}, "status_date_required", "status_date"),
    ({"status": "no_longer_enrolled"}, "status_date_required", "status_date"),
    ({"status": "full_time", "status_date": "2026-09-01"}, "status_date_not_taken", "status_date"),
    ({"status": "completed", "status_date": "2026-12-01"}, "status_date_in_future", "status_date"),
    ({"status": "completed", "status_date": "2026-13-01"}, "date_format", "status_date"),
    ({"status": "authorized_leave", "status_date": "2026-09-01"}, "note_required", "note"),
    ({"status": "transferred", "status_date": "2026-09-01"}, "note_required", "note"),
    ({"family_name": "Tremblay\x07"}, "control_character", "family_name"),
])
def test_every_row_check_names_its_problem_and_line(changes, code, field):
    assert problems_of(csv_bytes([student(1), row(**changes)])) == [(3, code, field)]


def test_the_date_of_birth_today_is_accepted_and_the_boundaries_hold():
    assert clean_row(row(date_of_birth=TODAY.isoformat()), TODAY)[0] is not None
    assert clean_row(row(status="completed", status_date=TODAY.isoformat()), TODAY)[0] is not None


def test_every_invalid_row_is_reported_not_only_the_first_and_nothing_is_returned():
    data = csv_bytes([row(uci="1"), student(2), student(3, date_of_birth="2030-01-01", permit_number="X")])
    assert problems_of(data) == [(2, "uci_format", "uci"), (4, "permit_format", "permit_number"),
                                 (4, "birth_in_future", "date_of_birth")]


def test_a_duplicate_student_in_one_file_is_refused_naming_the_first_line():
    data = csv_bytes([student(1), student(2), student(1, uci="99999999"), student(3, uci=student(2)["uci"])])
    problems = problems_of(data)
    assert problems == [(4, "duplicate_student_number", "student_number"), (5, "duplicate_uci", "uci")]
    with pytest.raises(UploadInvalid) as refused:
        csv_format.parse(data, LIMITS, TODAY)
    assert refused.value.problems[0][1].params == {"line": 2}


def test_header_problems_are_on_line_1():
    header = ["student_number", "family_name", "given_names", "date_of_birth", "uci", "study_permit_number",
              "program", "status", "status_date", "colour", "program"]
    codes = {code for _line, code, _field in problems_of(csv_bytes([], header=header))}
    assert codes == {"unknown_column", "duplicate_column", "missing_column"}


def test_empty_files_files_without_students_and_lines_of_the_wrong_width():
    assert problems_of(b"") == [(0, "file_empty", None)]
    assert problems_of(csv_bytes([])) == [(0, "file_no_rows", None)]
    assert problems_of(csv_bytes([["S1", "Tremblay"]])) == [(2, "column_count", None)]


def test_blank_lines_excel_leaves_are_skipped_and_line_numbers_count_them():
    data = csv_bytes([student(1), [""] * 10, row(uci="1")])
    assert problems_of(data) == [(4, "uci_format", "uci")]


def test_a_quoted_value_over_two_lines_is_refused_as_a_control_character_on_its_first_line():
    data = csv_bytes([row(note="line one\nline two"), student(2)])
    assert problems_of(data) == [(2, "control_character", "note")]


def test_a_file_over_the_size_limit_is_refused_at_once():
    big = csv_bytes([student(1)]) + b"x" * (LIMITS.max_bytes)
    assert problems_of(big) == [(0, "file_too_large", None)]


def test_a_stream_is_read_only_up_to_the_limit():
    asked = []

    class Stream:
        def read(self, size):
            asked.append(size)
            return b"x" * size

    with pytest.raises(UploadInvalid) as refused:
        csv_format.read_limited(Stream(), LIMITS)
    assert asked == [LIMITS.max_bytes + 1] and refused.value.problems[0][1].params == {"max_mb": "2"}


def test_50000_rows_are_refused_quickly_with_the_row_limit():
    lines = ["S,T,,2003-05-14,1,F1,P,full_time,,"] * 50_000
    data = ("student_number,family_name,given_names,date_of_birth,uci,study_permit_number,program,status,status_date,note\n"
            + "\n".join(lines)).encode()
    started = time.monotonic()
    problems = problems_of(data, csv_format.Limits(max_bytes=20 * 1024 * 1024, max_rows=5000))
    assert problems == [(0, "file_too_many_rows", None)]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_escaped_on_export(value):
    assert escape_cell(value) == "'" + value
    assert escape_cell("Nursing") == "Nursing"


def test_an_exported_report_escapes_formulas_and_uploads_back_unchanged():
    read = clean_row(row(program="=cmd|' /C calc'!A0", note="-2+3 @home", status="authorized_leave",
                         status_date="2026-09-01"), TODAY)[0]
    text = csv_format.export([read], "fr")
    assert text.startswith("\ufeffnumero_etudiant,")
    assert "'=cmd|' /C calc'!A0" in text and "'-2+3 @home" in text and "conge_autorise" in text
    [(_line, again)] = csv_format.parse(text.encode("utf-8"), LIMITS, TODAY)
    assert again == read


def test_the_valid_row_of_the_tests_is_valid():
    assert clean_row(VALID, TODAY)[1] == []
