"""What each problem code of reports/rows.py and csv_format.py says, in the page's
language (the views' side: Flask-Babel's lazy strings)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from clients.institution_portal.reports.rows import STATUS_CODES, STATUSES, Problem

FIELD_LABELS = {
    "student_number": _l("Student number"),
    "family_name": _l("Family name"),
    "given_names": _l("Given names"),
    "date_of_birth": _l("Date of birth"),
    "uci": _l("UCI (IRCC client identifier)"),
    "permit_number": _l("Study permit number"),
    "program": _l("Program"),
    "status": _l("Status"),
    "status_date": _l("Date of the status"),
    "note": _l("Note"),
}

STATUS_LABELS = {
    "full_time": _l("Actively enrolled, full time"),
    "part_time": _l("Actively enrolled, part time"),
    "authorized_leave": _l("On authorized leave"),
    "completed": _l("Completed the program"),
    "no_longer_enrolled": _l("No longer enrolled"),
    "did_not_show": _l("Never enrolled (did not show)"),
    "transferred": _l("Transferred to another institution"),
}

MESSAGES = {
    "required": _l("%(field)s is required."),
    "control_character": _l("%(field)s contains a tab, a line break or another control character."),
    "too_long": _l("%(field)s must be at most %(max)s characters long."),
    "student_number_format": _l("The student number may contain only letters, digits and hyphens."),
    "uci_format": _l("The UCI must have 8 or 10 digits (hyphens and spaces are allowed)."),
    "permit_format": _l("The study permit number must be a letter followed by 9 digits, such as F123456789."),
    "date_format": _l("%(field)s must be a date written YYYY-MM-DD, such as 2003-05-14."),
    "birth_in_future": _l("The date of birth cannot be in the future."),
    "birth_too_old": _l("The date of birth cannot be before 1900."),
    "status_unknown": _l("The status is not one of the accepted values: %(values)s."),
    "status_date_required": _l("This status needs the date it took effect."),
    "status_date_not_taken": _l("This status takes no date: leave the date of the status empty."),
    "status_date_in_future": _l("The date of the status cannot be in the future."),
    "note_required": _l("This status needs a note (the reason for a leave, or the institution the student "
                        "transferred to)."),
    "duplicate_student_number": _l("The student number is already on line %(line)s: a student appears once "
                                   "in a report."),
    "duplicate_uci": _l("The UCI is already on line %(line)s: a student appears once in a report."),
    "duplicate_student_number_in_report": _l("Another student in this report has this student number: a "
                                             "student appears once in a report."),
    "duplicate_uci_in_report": _l("Another student in this report has this UCI: a student appears once in a "
                                  "report."),
    "column_count": _l("This line has %(found)s values; the header has %(expected)s."),
    "csv_syntax": _l("This line is not valid CSV (check the quotation marks)."),
    "unknown_column": _l('The column "%(column)s" is not one of the template\'s columns.'),
    "duplicate_column": _l('The column "%(column)s" appears twice.'),
    "missing_column": _l('The column "%(column)s" is missing.'),
    "file_empty": _l("The file is empty: download the template and fill it in."),
    "file_no_rows": _l("The file lists no student: add one line per student under the header."),
    "file_encoding": _l("The file could not be read: save it as CSV in UTF-8 or Windows-1252."),
    "file_too_large": _l("The file is too large: a report file may be at most %(max_mb)s MB."),
    "file_too_many_rows": _l("The file has too many lines: a report may list at most %(max)s students."),
}


def describe(problem: Problem, locale: str) -> str:
    """The problem as a sentence in the page's language."""
    params = dict(problem.params)
    if problem.field is not None:
        params.setdefault("field", str(FIELD_LABELS[problem.field]))
    if problem.code == "status_unknown":
        params["values"] = ", ".join(STATUS_CODES[locale][code] for code in STATUSES)
    return str(MESSAGES[problem.code]) % params
