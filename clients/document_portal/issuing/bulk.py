"""Bulk issue from a CSV (one line per document) and a ZIP of the PDFs it names
(docs/document-portal.md, Bulk issue). Everything is checked before anything is signed:
one wrong line refuses the whole batch, with every problem listed. No Flask.

The ZIP is never extracted to disk: each member is read into memory by its name, with
limits on the number of members, each member's size and the total (a ZIP bomb stops at the
limit), and directory parts, absolute paths and duplicates are refused.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from clients.document_portal.errors import BulkRefused, InvalidField
from clients.document_portal.issuing.services import DocumentRequest, clean
from clients.document_portal.signing.errors import PdfRefused

COLUMNS = ("email", "given_name", "family_name", "locale", "kind", "title_fr", "title_en", "file")
MAX_ROWS = 500
MAX_CSV_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class BulkRow:
    line: int
    request: DocumentRequest
    pdf: bytes


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The CSV's lines as dicts of COLUMNS (UTF-8, BOM allowed, comma or semicolon).
    Raises BulkRefused for an unreadable file or wrong columns."""
    if not data or len(data) > MAX_CSV_BYTES:
        raise BulkRefused([(0, "csv", "csv_size")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkRefused([(0, "csv", "csv_encoding")]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        raise BulkRefused([(0, "csv", "csv_unreadable")]) from None
    if not rows:
        raise BulkRefused([(0, "csv", "csv_size")])
    header = [name.strip().lower() for name in rows[0]]
    if sorted(header) != sorted(COLUMNS):
        raise BulkRefused([(0, "csv", "csv_columns")])
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    if not body:
        raise BulkRefused([(0, "csv", "csv_empty")])
    if len(body) > MAX_ROWS:
        raise BulkRefused([(0, "csv", "csv_rows")])
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=False)) for row in body]


def read_zip(data: bytes, max_member_bytes: int, max_total_bytes: int) -> dict[str, bytes]:
    """The ZIP's PDF files by name. Raises BulkRefused (unreadable, too many, too large,
    unsafe or duplicate names)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BulkRefused([(0, "zip", "zip_unreadable")]) from None
    if len(members) > MAX_ROWS:
        raise BulkRefused([(0, "zip", "zip_members")])
    files: dict[str, bytes] = {}
    total = 0
    for info in members:
        name = info.filename
        if "/" in name or "\\" in name or name.startswith(".") or name in files or info.flag_bits & 0x1:
            raise BulkRefused([(0, "zip", "zip_names")])
        try:
            with archive.open(info) as member:
                content = member.read(max_member_bytes + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            raise BulkRefused([(0, "zip", "zip_unreadable")]) from None
        total += len(content)
        if len(content) > max_member_bytes or total > max_total_bytes:
            raise BulkRefused([(0, "zip", "zip_size")])
        files[name] = content
    return files


def check_batch(csv_data: bytes, zip_data: bytes, contact_email: str, check_pdf, max_member_bytes: int,
                max_total_bytes: int) -> list[BulkRow]:
    """Every line checked (fields, its PDF present and accepted by intake, each PDF used
    once). Raises BulkRefused listing every problem; returns the rows otherwise."""
    lines = read_csv(csv_data)
    files = read_zip(zip_data, max_member_bytes, max_total_bytes)
    problems: list[tuple[int, str, str]] = []
    rows: list[BulkRow] = []
    used: set[str] = set()
    for number, line in enumerate(lines, start=2):
        try:
            request = clean(DocumentRequest(
                kind=line["kind"].strip().lower(), title_fr=line["title_fr"], title_en=line["title_en"],
                given_name=line["given_name"], family_name=line["family_name"], email=line["email"],
                locale=(line["locale"].strip().lower() or "fr"), contact_email=contact_email))
        except InvalidField as error:
            problems.append((number, error.field, error.reason))
            continue
        name = line["file"].strip()
        if name not in files:
            problems.append((number, "file", "missing_file"))
            continue
        if name in used:
            problems.append((number, "file", "file_twice"))
            continue
        used.add(name)
        try:
            check_pdf(files[name])
        except PdfRefused as error:
            problems.append((number, "file", f"pdf_{error.reason.value}"))
            continue
        rows.append(BulkRow(number, request, files[name]))
    if problems:
        raise BulkRefused(problems)
    return rows
