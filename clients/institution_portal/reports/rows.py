"""One student row of a report: its fields, the statuses, and every check a row must pass,
whether it comes from the form or from a line of a CSV file. No Flask: problems are codes
with parameters; reports/messages.py says them in the page's language."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

# The statuses a row may have (seed 002, issue 12). Some need the date the status took
# effect and some a note (docs/institution-portal.md, Statuses):
#   authorized_leave      date the leave began, note: the reason and expected return
#   completed             date the program was completed
#   no_longer_enrolled    date the student stopped studying
#   transferred           date of the transfer, note: the institution the student went to
# The others (full_time, part_time, did_not_show) take no date; a note is always allowed.
STATUSES = ("full_time", "part_time", "authorized_leave", "completed", "no_longer_enrolled", "did_not_show",
            "transferred")
NEEDS_DATE = frozenset({"authorized_leave", "completed", "no_longer_enrolled", "transferred"})
NEEDS_NOTE = frozenset({"authorized_leave", "transferred"})
# French codes accepted in a CSV file (a template downloaded in French uses them).
FRENCH_STATUSES = {
    "temps_plein": "full_time", "temps_partiel": "part_time", "conge_autorise": "authorized_leave",
    "programme_termine": "completed", "plus_inscrit": "no_longer_enrolled", "jamais_inscrit": "did_not_show",
    "transfere": "transferred",
}
STATUS_CODES = {"en": {code: code for code in STATUSES},
                "fr": {code: french for french, code in FRENCH_STATUSES.items()}}

FIELDS = ("student_number", "family_name", "given_names", "date_of_birth", "uci", "permit_number", "program",
          "status", "status_date", "note")
REQUIRED = frozenset({"student_number", "family_name", "date_of_birth", "uci", "permit_number", "program", "status"})
MAX_LENGTHS = {"student_number": 20, "family_name": 100, "given_names": 100, "program": 200, "note": 500}
STUDENT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# IRCC's unique client identifier: 8 or 10 digits, often written with hyphens or spaces
# (0000-0000, 00-0000-0000); stored as digits only.
UCI = re.compile(r"\d{8}|\d{10}")
# A study permit number as printed on the permit: one letter then nine digits (F123456789);
# spaces are dropped and the letter is upper-cased.
PERMIT_NUMBER = re.compile(r"[A-Z]\d{9}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
OLDEST_BIRTH = date(1900, 1, 1)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Problem:
    """Why a value is refused: a code (reports/messages.py), the field, and parameters."""

    code: str
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """A checked row, ready to store."""

    student_number: str
    family_name: str
    given_names: str
    date_of_birth: date
    uci: str
    permit_number: str
    program: str
    status: str
    status_date: date | None
    note: str


def clean_row(values: Mapping[str, Any], today: date) -> tuple[Row | None, list[Problem]]:
    """Check one row's raw values (strings, or dates from a form); the Row or its problems."""
    problems: list[Problem] = []
    text = {name: _text(values.get(name)) for name in FIELDS}
    for name in FIELDS:
        if name in REQUIRED and not text[name]:
            problems.append(Problem("required", name))
        elif CONTROL.search(text[name]):
            problems.append(Problem("control_character", name))
        elif name in MAX_LENGTHS and len(text[name]) > MAX_LENGTHS[name]:
            problems.append(Problem("too_long", name, {"max": MAX_LENGTHS[name]}))
    bad = {problem.field for problem in problems}

    if "student_number" not in bad and not STUDENT_NUMBER.fullmatch(text["student_number"]):
        problems.append(Problem("student_number_format", "student_number"))
    uci = re.sub(r"[\s-]", "", text["uci"])
    if "uci" not in bad and not UCI.fullmatch(uci):
        problems.append(Problem("uci_format", "uci"))
    permit = re.sub(r"\s", "", text["permit_number"]).upper()
    if "permit_number" not in bad and not PERMIT_NUMBER.fullmatch(permit):
        problems.append(Problem("permit_format", "permit_number"))

    birth = None
    if "date_of_birth" not in bad:
        birth = _date(values.get("date_of_birth"))
        if birth is None:
            problems.append(Problem("date_format", "date_of_birth"))
        elif birth > today:
            problems.append(Problem("birth_in_future", "date_of_birth"))
        elif birth < OLDEST_BIRTH:
            problems.append(Problem("birth_too_old", "date_of_birth"))

    status = None
    if "status" not in bad:
        status = parse_status(text["status"])
        if status is None:
            problems.append(Problem("status_unknown", "status"))
    status_date = None
    if text["status_date"] and "status_date" not in bad:
        status_date = _date(values.get("status_date"))
        if status_date is None:
            problems.append(Problem("date_format", "status_date"))
        elif status is not None and status not in NEEDS_DATE:
            problems.append(Problem("status_date_not_taken", "status_date"))
        elif status_date > today:
            problems.append(Problem("status_date_in_future", "status_date"))
    elif status in NEEDS_DATE and not text["status_date"]:
        problems.append(Problem("status_date_required", "status_date"))
    if status in NEEDS_NOTE and not text["note"]:
        problems.append(Problem("note_required", "note"))

    if problems:
        return None, problems
    return Row(student_number=text["student_number"], family_name=text["family_name"],
               given_names=text["given_names"], date_of_birth=birth, uci=uci, permit_number=permit,
               program=text["program"], status=status, status_date=status_date, note=text["note"]), []


def parse_status(value: str) -> str | None:
    code = value.strip().lower().replace(" ", "_")
    if code in STATUSES:
        return code
    return FRENCH_STATUSES.get(code)


def duplicates(rows: Iterable[tuple[int, Row]]) -> list[tuple[int, Problem]]:
    """A student appears once per report: the same student number or UCI on two lines is
    refused on the later line, naming the first."""
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for line, row in rows:
        for name, value in (("student_number", row.student_number.upper()), ("uci", row.uci)):
            first = seen.setdefault((name, value), line)
            if first != line:
                problems.append((line, Problem(f"duplicate_{name}", name, {"line": first})))
    return problems


def escape_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): a value starting
    with = + - @ tab or carriage return gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unescape_cell(value: str) -> str:
    """What escape_cell added, removed again: an exported file uploads back unchanged."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    text = _text(value)
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
