"""CSV a portal gives back to people, safe to open in a spreadsheet: a cell that a
spreadsheet would read as a formula (=, +, -, @, tab, carriage return at the start) is
prefixed with an apostrophe (OWASP, CSV Injection). UTF-8 with a byte-order mark, so
Excel reads accents right. No Flask."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + output.getvalue()).encode("utf-8")
