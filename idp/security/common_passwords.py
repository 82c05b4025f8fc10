"""The offline list of common passwords (idp/data/common-passwords.txt, idp/data/README.md):
looked up by binary search over a memory map, in every form that could hide an entry.

Pure: no Flask, no database.
"""

from __future__ import annotations

import mmap
import threading
from pathlib import Path

from idp.security.unicode_forms import comparable_form, is_letter, normalize_password

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
# The list holds no entry longer than this; a longer password is not looked up at all.
LONGEST_ENTRY = 1024
# A list entry found once leading and trailing digits and symbols are taken away
# ("Password123456!" is "password") counts only from this many characters.
MIN_COMMON_CORE_LENGTH = 4


def common_password_key(plain_password: str) -> bytes:
    """The form in which entries are stored in the list: NFKC, lowercased, UTF-8."""
    return normalize_password(plain_password).lower().encode("utf-8", "surrogatepass")


def _common_core(text: str) -> str:
    """The text without its leading and trailing digits and symbols: "password" for
    "Password123456!", the commonest way a listed password is made to meet the rules."""
    start, end = 0, len(text)
    while start < end and not is_letter(text[start]):
        start += 1
    while end > start and not is_letter(text[end - 1]):
        end -= 1
    return text[start:end]


class SortedLineFile:
    """Membership in a sorted, newline-terminated file by binary search over a memory map.

    The map is opened once per process and shared by its threads; pages stay in the
    operating system's cache, shared by every worker, instead of a set in each one.
    """

    def __init__(self, path: Path):
        self.path = path
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()

    def _mapped(self) -> mmap.mmap:
        if self._map is None:
            with self._lock:
                if self._map is None:
                    with self.path.open("rb") as handle:
                        self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def __contains__(self, key: bytes) -> bool:
        if not key or b"\n" in key:
            return False
        data = self._mapped()
        low, high = 0, len(data)  # invariant: every line starting before low is < key
        while low < high:
            middle = (low + high) // 2
            start = data.rfind(b"\n", 0, middle) + 1  # the line holding byte `middle`
            end = data.find(b"\n", start)
            end = len(data) if end == -1 else end
            line = data[start:end]
            if line == key:
                return True
            if line < key:
                low = end + 1
            else:
                high = start
        return False


_COMMON_PASSWORDS = SortedLineFile(COMMON_PASSWORDS_FILE)


def is_common_password(plain_password: str) -> bool:
    """True when the password, ignoring case, is on the shipped list (idp/data/README.md).

    Looked up as typed (NFKC), in its comparable form (no invisible characters, Latin
    look-alikes folded), and each of those without leading and trailing digits and symbols
    when at least MIN_COMMON_CORE_LENGTH characters remain.
    """
    if len(plain_password) > LONGEST_ENTRY:
        return False  # the list holds nothing longer
    candidates = {normalize_password(plain_password), comparable_form(plain_password)}
    candidates |= {core for core in map(_common_core, list(candidates)) if len(core) >= MIN_COMMON_CORE_LENGTH}
    return any(common_password_key(candidate) in _COMMON_PASSWORDS for candidate in candidates)
