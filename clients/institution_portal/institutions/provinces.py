"""Canada's provinces and territories by their two-letter postal codes, and reading the
province file an operator imports (`institutions import FILE.csv`: columns number,province).
No Flask, no database."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

PROVINCES = ("AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT")
HEADER = ("number", "province")
MAX_LINES = 100_000


@dataclass(frozen=True)
class ProvinceLine:
    line: int
    number: str
    province: str


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str


def normalize(code: str | None) -> str | None:
    """The province code in capitals, or None when it is not one of PROVINCES."""
    code = (code or "").strip().upper()
    return code if code in PROVINCES else None


def read_province_file(data: bytes) -> tuple[list[ProvinceLine], list[LineProblem]]:
    """The lines of a CSV file whose header is number,province (UTF-8, with or without a
    byte-order mark, or Windows-1252), and every problem with its line number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
        return [], [LineProblem(1, "the first line must be: number,province")]
    lines: list[ProvinceLine] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(reader, start=2):
        if index > MAX_LINES:
            problems.append(LineProblem(index, f"more than {MAX_LINES} lines"))
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            problems.append(LineProblem(index, "expected two columns: number,province"))
            continue
        number, code = row[0].strip(), normalize(row[1])
        if not number:
            problems.append(LineProblem(index, "no DLI number"))
        elif code is None:
            problems.append(LineProblem(index, f"unknown province {row[1].strip()[:10]!r} (one of {', '.join(PROVINCES)})"))
        elif number in seen:
            problems.append(LineProblem(index, f"DLI number {number} is already on line {seen[number]}"))
        else:
            seen[number] = index
            lines.append(ProvinceLine(index, number, code))
    return lines, problems
