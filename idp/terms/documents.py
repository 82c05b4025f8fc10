"""Where the documents of each terms version live: templates/terms/<version>/, or the
folder named by TERMS_DIRECTORY (an operator's own documents, outside the source tree).

Each version is a folder of four templates, the terms of use and the privacy policy in
French and English: terms.fr.html, terms.en.html, privacy.fr.html, privacy.en.html, each
extending terms/_document.html as the bundled ones do. Pages load them as
"terms/<version>/<kind>.<locale>.html". Pure file-system helpers: no database, no Flask.
"""

from __future__ import annotations

import re
from pathlib import Path

from idp.config import PROJECT_ROOT

TERMS_ROOT = PROJECT_ROOT / "templates" / "terms"
KINDS = ("terms", "privacy")
LOCALES = ("fr", "en")
# One path segment that cannot climb out of the folder ("..") or hide (".x").
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def documents_root(settings) -> Path:
    """TERMS_DIRECTORY when set, else the versions bundled with Passerelle."""
    configured = settings["TERMS_DIRECTORY"]
    return Path(configured) if configured else TERMS_ROOT


def is_valid_version(version: str) -> bool:
    return bool(_VERSION.match(version or ""))


def template_name(version: str, kind: str, locale: str) -> str:
    """The Jinja name of one document, e.g. "terms/2026-11/privacy.fr.html"."""
    if not is_valid_version(version) or kind not in KINDS or locale not in LOCALES:
        raise ValueError(f"no such terms document: {version!r} {kind!r} {locale!r}")
    return f"terms/{version}/{kind}.{locale}.html"


def has_all_documents(version: str, root: Path = TERMS_ROOT) -> bool:
    """True when the four documents of this version exist."""
    if not is_valid_version(version):
        return False
    return all((root / version / f"{kind}.{locale}.html").is_file() for kind in KINDS for locale in LOCALES)


def bundled_versions(root: Path = TERMS_ROOT) -> list[str]:
    """Versions with all four documents, oldest first (names sort in time order: 2026-11)."""
    if not root.is_dir():
        return []
    return sorted(path.name for path in root.iterdir() if path.is_dir() and has_all_documents(path.name, root))
