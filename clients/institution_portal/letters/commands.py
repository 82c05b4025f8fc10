"""`python -m clients.institution_portal letters import FILE.csv`: the operator imports the
ministry's verification requests (letters/importing.py says the format). Prints how many
letters were imported and skipped, or every problem with its line (then nothing is imported)."""

from __future__ import annotations

import sys
from pathlib import Path

from clients.institution_portal.db import db
from clients.institution_portal.letters.errors import ImportRefused
from clients.institution_portal.letters.importing import (
    COLUMNS,
    MAX_BYTES,
    import_letters,
)

USAGE = f"usage: python -m clients.institution_portal letters import FILE.csv  (columns: {','.join(COLUMNS)})"


def run_command(app, argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "import":
        print(USAGE, file=sys.stderr)
        return 2
    path = Path(argv[2])
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        print(f"institution portal: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 1
    portal = app.extensions["institution_portal"]
    with app.app_context():
        try:
            result = import_letters(db.session, portal.clock, raw)
        except ImportRefused as refused:
            db.session.rollback()
            for line, problem in refused.problems:
                print(f"{path}:{line}: {problem}", file=sys.stderr)
            print(f"institution portal: nothing imported ({len(refused.problems)} problem(s))", file=sys.stderr)
            return 1
        db.session.commit()
    print(f"institution portal: {result.imported} letter(s) imported, {result.skipped} already there")
    return 0
