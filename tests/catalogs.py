"""Compile the translation catalogs (.po to .mo) before tests render pages.

The .mo files are build output (git-ignored). `make translations` runs
`pybabel compile -d translations`; this does the same from Python so that a bare `pytest`
also renders French, and it recompiles only a catalog whose .po is newer than its .mo.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Write messages.mo next to every messages.po that changed; returns the .mo paths."""
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=po_path.parent.parent.name)
            # Write then rename, so a concurrent reader never sees half a catalog.
            partial = mo_path.with_name(f"messages.mo.{os.getpid()}.tmp")
            with partial.open("wb") as handle:
                write_mo(handle, catalog)  # fuzzy entries are left out, as pybabel compile does
            partial.replace(mo_path)
        compiled.append(mo_path)
    return compiled
