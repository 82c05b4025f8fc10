"""The demo's letters of acceptance (`python -m clients.institution_portal demo`, make run):
three requests from the ministry for the demo DLI, imported as an operator would, so home
shows letters waiting and /letters has a queue. Idempotent (the import skips known letters)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from clients.institution_portal.letters.importing import COLUMNS, import_letters

# (letter number, family name, given names, date of birth, program, days before today it was asked)
DEMO_LETTERS = (
    ("LOA-DEMO-0001", "Nguyen", "Van Anh", "2004-05-14", "Génie civil / Civil Engineering", 3),
    ("LOA-DEMO-0002", "Okafor", "Chidinma", "2003-11-02", "Soins infirmiers / Nursing", 2),
    ("LOA-DEMO-0003", "Singh", "Arjun", "2005-01-20", "Techniques de l'informatique / Computer Science", 1),
)


def demo_letters(context) -> str:
    """A DemoContext step (clients/institution_portal/demo.py): after the demo institution."""
    today = context.clock()
    start = f"{today.year + 1}-01-10"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for number, family, given, birth, program, days in DEMO_LETTERS:
        requested = (today - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow((context.institution.number, number, family, given, birth, program, start, requested))
    result = import_letters(context.session, context.clock, buffer.getvalue().encode())
    return f"letters of acceptance to verify: {result.imported} imported, {result.skipped} already there"
