"""The CSV format of a report (docs/institution-portal.md, The CSV file): reading an upload
(UTF-8 with or without a byte order mark, or Windows-1252; comma or semicolon; at most so
many bytes and rows, refused early), the template, and the export (cells escaped so a
spreadsheet never runs them as formulas). No Flask."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from clients.institution_portal.reports.errors import UploadInvalid
from clients.institution_portal.reports.rows import (
    FIELDS,
    STATUS_CODES,
    Problem,
    Row,
    clean_row,
    duplicates,
    escape_cell,
    unescape_cell,
)

# Column headers, in English and French; either set (or a mix) is read. The template and
# the export use the page's language.
HEADERS = {
    "en": dict(zip(FIELDS, ("student_number", "family_name", "given_names", "date_of_birth", "uci",
                            "study_permit_number", "program", "status", "status_date", "note"), strict=True)),
    "fr": dict(zip(FIELDS, ("numero_etudiant", "nom_de_famille", "prenoms", "date_de_naissance", "iuc",
                            "numero_permis_etudes", "programme", "statut", "date_statut", "note"), strict=True)),
}
COLUMN_OF = {header: name for headers in HEADERS.values() for name, header in headers.items()}
SAMPLE = {
    "en": [("S1001", "Tremblay", "Marie", "2003-05-14", "12345678", "F123456789", "Nursing", "full_time", "", ""),
           ("S1002", "Nguyen", "Van An", "2001-11-02", "1234567890", "F234567890", "Business Administration",
            "authorized_leave", "2026-09-15", "Medical leave; return expected in January")],
    "fr": [("S1001", "Tremblay", "Marie", "2003-05-14", "12345678", "F123456789", "Soins infirmiers", "temps_plein",
            "", ""),
           ("S1002", "Nguyen", "Van An", "2001-11-02", "1234567890", "F234567890", "Administration des affaires",
            "conge_autorise", "2026-09-15", "Congé médical; retour prévu en janvier")],
}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int


def read_limited(stream, limits: Limits) -> bytes:
    """At most max_bytes of an uploaded file; UploadInvalid as soon as there is more."""
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise too_large(limits)
    return data


def too_large(limits: Limits) -> UploadInvalid:
    return _refused(Problem("file_too_large", None, {"max_mb": megabytes(limits.max_bytes)}))


def _refused(problem: Problem) -> UploadInvalid:
    return UploadInvalid([(0, problem)])


def decode(data: bytes) -> str:
    """UTF-8 (a byte order mark is dropped), else Windows-1252 (what Excel saves as « CSV »
    on Windows); UploadInvalid when neither reads it."""
    data = data.removeprefix(codecs.BOM_UTF8)
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refused(Problem("file_encoding"))


def parse(data: bytes, limits: Limits, today: date) -> list[tuple[int, Row]]:
    """Every row of the file checked (with its line); UploadInvalid with every problem found
    (with its line), or with the one reason the file as a whole is refused."""
    if len(data) > limits.max_bytes:
        raise too_large(limits)
    text = decode(data)
    if "\x00" in text:
        raise _refused(Problem("file_encoding"))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[tuple[int, Problem]] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _refused(Problem("file_empty"))
        columns, header_problems = _columns(header)
        if header_problems:
            raise UploadInvalid([(1, problem) for problem in header_problems])
        rows: list[tuple[int, Row]] = []
        count, line = 0, reader.line_num
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines (Excel leaves ",,,,," at the end) are skipped
            count += 1
            if count > limits.max_rows:
                raise _refused(Problem("file_too_many_rows", None, {"max": limits.max_rows}))
            if len(record) != len(columns):
                problems.append((start, Problem("column_count", None, {"found": len(record), "expected": len(columns)})))
                continue
            values = {name: unescape_cell(cell) for name, cell in zip(columns, record, strict=True)}
            row, row_problems = clean_row(values, today)
            problems.extend((start, problem) for problem in row_problems)
            if row is not None:
                rows.append((start, row))
    except csv.Error:
        problems.append((reader.line_num, Problem("csv_syntax")))
        raise UploadInvalid(problems) from None
    if count == 0 and not problems:
        raise _refused(Problem("file_no_rows"))
    problems.extend(duplicates(rows))
    if problems:
        raise UploadInvalid(sorted(problems, key=lambda item: item[0]))
    return rows


def _columns(header: Sequence[str]) -> tuple[list[str], list[Problem]]:
    columns, problems = [], []
    for cell in header:
        name = COLUMN_OF.get(cell.strip().lower())
        if name is None:
            problems.append(Problem("unknown_column", None, {"column": cell.strip()[:50]}))
        elif name in columns:
            problems.append(Problem("duplicate_column", None, {"column": cell.strip()[:50]}))
        columns.append(name)
    for name in FIELDS:
        if name not in columns:
            problems.append(Problem("missing_column", None, {"column": HEADERS["en"][name]}))
    return columns, problems


def template(language: str) -> str:
    """The template to fill: the header in the page's language and two sample rows."""
    return write([HEADERS[language][name] for name in FIELDS], SAMPLE[language])


def export(rows: Iterable[Row], language: str) -> str:
    """A report's rows as CSV, in the format an upload reads, every cell escaped."""
    statuses = STATUS_CODES[language]
    return write([HEADERS[language][name] for name in FIELDS], (
        (row.student_number, row.family_name, row.given_names, row.date_of_birth.isoformat(), row.uci,
         row.permit_number, row.program, statuses[row.status],
         row.status_date.isoformat() if row.status_date else "", row.note) for row in rows))


def write(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """UTF-8 text with a byte order mark (so Excel reads accents), CRLF line ends, every
    cell escaped against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([escape_cell(str(cell)) for cell in row])
    return "\ufeff" + out.getvalue()


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"
