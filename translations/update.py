"""Refresh the catalogs after strings change in the code or the templates.

    .venv/bin/python translations/update.py            # extract, merge into fr and en, fill en
    .venv/bin/python translations/update.py --compile  # the same, then write the .mo files

1. Extracts messages.pot with --omit-header (the command documented in babel.cfg).
2. Merges it into fr and en (pybabel update, no fuzzy matching: a guessed French sentence
   is worse than an empty one, which the tests catch).
3. Makes the en catalog complete: every msgstr repeats its English msgid.
4. Lists the French entries still to translate, and exits 1 if there are any.

Only compiling, which is all tests and `make run` need, is `pybabel compile -d translations`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent
ROOT = TRANSLATIONS.parent
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("fr", "en")


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def extract() -> None:
    pybabel("extract", "-F", "translations/babel.cfg", "--omit-header", "-k", "lazy_gettext", "-k", "_l", "-o", "translations/messages.pot", ".")


def merge(locale: str) -> None:
    if catalog_path(locale).exists():
        pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale, "--no-fuzzy-matching", "--ignore-obsolete")
    else:
        pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale)


def fill_english() -> None:
    path = catalog_path("en")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    catalog.fuzzy = False
    with path.open("wb") as handle:
        write_po(handle, catalog, ignore_obsolete=True)


def fill_french_from_incoming() -> None:
    """Fill empty French entries from translations/incoming/*.json ({msgid: French}; for a
    plural message, {singular msgid: [French singular, French plural]}).

    Lets several people add strings at once without rewriting the same .po file by hand;
    the JSON files are folded into the catalog and deleted when their work lands.
    """
    incoming: dict[str, str | list[str]] = {}
    for path in sorted((TRANSLATIONS / "incoming").glob("*.json")):
        incoming.update(json.loads(path.read_text(encoding="utf-8")))
    if not incoming:
        return
    path = catalog_path("fr")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    changed = False
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            if not message.string and isinstance(incoming.get(message.id), str):
                message.string = incoming[message.id]
                changed = True
        elif not any(message.string) and isinstance(incoming.get(message.id[0]), list):
            message.string = tuple(incoming[message.id[0]])
            changed = True
    if changed:
        with path.open("wb") as handle:
            write_po(handle, catalog, ignore_obsolete=True)


def untranslated(locale: str) -> list[str]:
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return [str(message.id) for message in catalog if message.id and (message.fuzzy or not all(
        message.string if isinstance(message.string, (list, tuple)) else [message.string]))]


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    before = POT.read_bytes() if POT.exists() else None
    extract()
    # Merging rewrites the catalogs' POT-Creation-Date: only do it when something changed.
    if POT.read_bytes() != before or not all(catalog_path(locale).exists() for locale in LOCALES):
        for locale in LOCALES:
            merge(locale)
        fill_english()
    fill_french_from_incoming()
    if "--compile" in argv:
        pybabel("compile", "-d", str(TRANSLATIONS))
    todo = untranslated("fr")
    for msgid in todo:
        print(f"fr: to translate: {msgid!r}")
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
