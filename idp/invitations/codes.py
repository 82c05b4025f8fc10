"""Invitation codes (seed 001): human-typable, made, shown and read back here.

Pure: no database, no Flask. The service stores only a code's keyed hash.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

# Human-typable codes: no 0/O, 1/I/L look-alikes. 31 symbols; 16 of them give
# 16 × log2(31) ≈ 79 bits (12 would give 59.5, short of the 60 we want for a secret that
# lives two weeks), shown as four groups of four: ABCD-EFGH-JKMN-PQRS.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
CODE_GROUP = 4
# What people type between groups, or paste with the code: spaces, hyphens and dashes.
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")


def new_invitation_code() -> str:
    """A fresh code in display form, grouped with hyphens."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(code: str) -> str:
    """ABCDEFGHJKMNPQRS -> ABCD-EFGH-JKMN-PQRS (display only; never compared in this form)."""
    normal = normalise_code(code) or code
    return "-".join(normal[i : i + CODE_GROUP] for i in range(0, len(normal), CODE_GROUP))


def normalise_code(typed: str) -> str | None:
    """The canonical form of a typed code, or None when it cannot be one of ours.

    NFKC folds full-width letters from some keyboards; case is ignored and separators or
    spaces anywhere are dropped, so "abcd efgh-jkmn pqrs" matches.
    """
    if not isinstance(typed, str) or len(typed) > 4 * CODE_LENGTH:
        return None
    folded = _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", typed)).upper()
    if len(folded) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in folded):
        return None
    return folded
