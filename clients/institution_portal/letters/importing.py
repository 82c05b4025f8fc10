"""The operator's import of verification requests (`python -m clients.institution_portal
letters import FILE.csv`, docs/institution-portal.md): a CSV file from the ministry, one
letter per row, each with the DLI number of the institution that must verify it.

All or nothing: every problem is reported with its line, and a file with any problem imports
nothing. A letter already imported (same DLI number and letter number) is skipped, so running
the same file twice imports it once. Messages are English, for operators. No Flask.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from clients.institution_portal.letters.errors import ImportRefused
from clients.institution_portal.letters.models import (
    AcceptanceLetter,
    LetterAction,
    LetterEvent,
)
from clients.institution_portal.letters.services import new_public_id

COLUMNS = ("dli_number", "letter_number", "family_name", "given_names", "date_of_birth", "program", "start_date",
           "requested_at")
OPTIONAL = {"given_names"}  # some people have one name only
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_LENGTHS = {"dli_number": 64, "letter_number": 64, "family_name": 200, "given_names": 200, "program": 300}
DLI_NUMBER = re.compile(r"[A-Z0-9]{1,64}")
LETTER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}")
CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
OPERATOR = "operator import"


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped: int


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte order mark), else Windows-1252 as spreadsheets save it."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="strict")


def import_letters(session: Session, clock: Callable[[], datetime], raw: bytes) -> ImportResult:
    """Check every row, then add the new letters (pending) with an "imported" event each.
    Raises ImportRefused listing (line, problem) for every problem; nothing is added then.
    The caller commits."""
    if len(raw) > MAX_BYTES:
        raise ImportRefused([(0, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")])
    try:
        text = decode(raw)
    except UnicodeDecodeError:
        raise ImportRefused([(0, "the file is neither UTF-8 nor Windows-1252 text")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ImportRefused([(1, f"missing column(s): {', '.join(missing)}; expected {','.join(COLUMNS)}")])
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, object]]] = []
    problems: list[tuple[int, str]] = []
    seen: set[tuple[str, str]] = set()
    for index, raw_row in enumerate(reader):
        line = reader.line_num
        if index >= MAX_ROWS:
            raise ImportRefused([(line, f"more than {MAX_ROWS} letters: split the file")])
        if None in raw_row:
            problems.append((line, "more values than columns"))
            continue
        row, row_problems = check_row({name: (raw_row.get(name) or "").strip() for name in COLUMNS}, clock)
        if not row_problems:
            key = (str(row["dli_number"]), str(row["letter_number"]))
            if key in seen:
                row_problems.append(f"letter {key[1]} of {key[0]} appears twice in the file")
            seen.add(key)
        problems.extend((line, problem) for problem in row_problems)
        rows.append((line, row))
    if problems:
        raise ImportRefused(problems)
    existing = already_imported(session, seen)
    now = clock()
    imported = 0
    for _line, row in rows:
        if (row["dli_number"], row["letter_number"]) in existing:
            continue
        letter = AcceptanceLetter(public_id=new_public_id(), imported_at=now, **row)
        session.add(letter)
        session.flush()
        session.add(LetterEvent(letter_id=letter.id, action=LetterAction.IMPORTED, actor_sub=None, actor_name=OPERATOR,
                                at=now))
        imported += 1
    session.flush()
    return ImportResult(imported=imported, skipped=len(rows) - imported)


def already_imported(session: Session, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    pending = sorted(keys)
    for start in range(0, len(pending), 500):
        chunk = pending[start:start + 500]
        found.update(session.execute(
            select(AcceptanceLetter.dli_number, AcceptanceLetter.letter_number)
            .where(tuple_(AcceptanceLetter.dli_number, AcceptanceLetter.letter_number).in_(chunk))
        ).tuples())
    return found


def check_row(values: dict[str, str], clock: Callable[[], datetime]) -> tuple[dict[str, object], list[str]]:
    """The row's values as the model takes them, and its problems (empty when it is fine)."""
    problems: list[str] = []
    for name in COLUMNS:
        value = values[name]
        if not value and name not in OPTIONAL:
            problems.append(f"{name} is empty")
        elif CONTROL.search(value):
            problems.append(f"{name} holds control or invisible characters")
        elif name in MAX_LENGTHS and len(value) > MAX_LENGTHS[name]:
            problems.append(f"{name} is longer than {MAX_LENGTHS[name]} characters")
    if problems:
        return {}, problems
    dli_number = values["dli_number"].upper()
    if not DLI_NUMBER.fullmatch(dli_number):
        problems.append("dli_number must hold only letters and digits")
    if not LETTER_NUMBER.fullmatch(values["letter_number"]):
        problems.append("letter_number must start with a letter or digit and hold only letters, digits and - / _ .")
    today = clock().date()
    birth_date = parse_date(values["date_of_birth"], "date_of_birth", problems)
    if birth_date is not None and birth_date >= today:
        problems.append("date_of_birth is not in the past")
    start_date = parse_date(values["start_date"], "start_date", problems)
    requested_at = parse_moment(values["requested_at"], problems)
    if requested_at is not None and requested_at > clock():
        problems.append("requested_at is in the future")
    row = {"dli_number": dli_number, "letter_number": values["letter_number"], "family_name": values["family_name"],
           "given_names": values["given_names"], "birth_date": birth_date, "program": values["program"],
           "start_date": start_date, "requested_at": requested_at}
    return row, problems


def parse_date(value: str, name: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(value)
    except ValueError:
        problems.append(f"{name} must be a date written YYYY-MM-DD, not {value[:20]!r}")
        return None


def parse_moment(value: str, problems: list[str]) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 date and time; without a zone, UTC."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        problems.append(f"requested_at must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not {value[:30]!r}")
        return None


def _bad(value: str):
    raise ValueError(value)
