"""Recovery codes: single-use look-up secrets (NIST SP 800-63B §5.1.2) shown once.

Pure: no database, no Flask. Each code is 12 characters from a 32-letter alphabet without
look-alikes (60 bits, above the 50 the issue asks for), shown in three groups of four.
"""

from __future__ import annotations

import secrets

# Crockford's base32 without I, L, O, U: nothing to confuse with 1 or 0.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
GROUP = 4
COUNT = 10
# People copy codes with spaces, dashes, lower case and look-alike letters.
_SAME_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_codes(count: int = COUNT) -> list[str]:
    """count fresh codes, in their canonical form (no separators)."""
    return ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(count)]


def display(code: str) -> str:
    """"ABCD2345WXYZ" -> "ABCD-2345-WXYZ"."""
    return "-".join(code[index:index + GROUP] for index in range(0, len(code), GROUP))


def canonical(typed: str | None) -> str:
    """What the person typed, as stored: upper case, no separators, look-alikes mapped."""
    kept = "".join(character for character in (typed or "").upper() if character.isalnum())
    return kept.translate(_SAME_AS)


def is_well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(character in ALPHABET for character in code)
