"""What a new password must be: the rules, and the offline list of common passwords.

Pure: no Flask, no database. The same rule data feeds the server check (the authority) and
the live checklist in the browser (templates/_macros/password.html and
idp/static/js/password-rules.js), so the two cannot drift apart.

NIST SP 800-63B §5.1.1.2: at least 8 characters, up to at least 64, Unicode normalised
(NFKC), checked against commonly used and compromised values and context words. The
composition rules (special, digit, upper, lower) are the seed journeys' and are configurable.
"""

from __future__ import annotations

import mmap
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
# NIST SP 800-63B §5.1.1.2: "at least 8 characters in length".
MIN_ALLOWED_LENGTH = 8
# What any form accepts at all (idp.security.passwords.MAX_PASSWORD_LENGTH, VAL-03).
MAX_ALLOWED_LENGTH = 1024
# Personal values shorter than this ("Li", "Bo") would refuse too many unrelated passwords.
MIN_PERSONAL_LENGTH = 3


class PasswordProblem(StrEnum):
    """One reason a new password is refused; each has its own message (password_text.py)."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NO_SPECIAL = "no_special"
    NO_DIGIT = "no_digit"
    NO_UPPER = "no_upper"
    NO_LOWER = "no_lower"
    COMMON = "common"
    PERSONAL = "personal"


def normalize_password(plain_password: str) -> str:
    """NFKC, so the same password typed on two keyboards is one password (800-63B §5.1.1.2)."""
    return unicodedata.normalize("NFKC", plain_password)


# Character classes by Unicode general category, so "É", "ß" and "٣" count as letters and
# digits like "E", "s" and "3" do. Combining marks belong to the letter they modify.
def _is_letter(character: str) -> bool:
    return unicodedata.category(character)[0] in "LM"


def _is_digit(character: str) -> bool:
    return unicodedata.category(character) == "Nd"


def _is_special(character: str) -> bool:
    """Anything that is neither a letter nor a digit: punctuation, symbols, emoji, a space."""
    return not (_is_letter(character) or _is_digit(character))


def _is_upper(character: str) -> bool:
    return unicodedata.category(character) in ("Lu", "Lt")


def _is_lower(character: str) -> bool:
    return unicodedata.category(character) == "Ll"


@dataclass(frozen=True)
class CharacterRule:
    """A "contains at least one …" rule, stated once for Python and once for the browser.

    js_pattern is the same class as a JavaScript regular expression with the "u" flag
    (Unicode property escapes), which password-rules.js tests against the typed value.
    """

    problem: PasswordProblem
    setting: str
    contains: Callable[[str], bool]  # tests one character
    js_pattern: str


CHARACTER_RULES: tuple[CharacterRule, ...] = (
    CharacterRule(PasswordProblem.NO_SPECIAL, "require_special", _is_special, r"[^\p{L}\p{M}\p{Nd}]"),
    CharacterRule(PasswordProblem.NO_DIGIT, "require_digit", _is_digit, r"\p{Nd}"),
    CharacterRule(PasswordProblem.NO_UPPER, "require_upper", _is_upper, r"[\p{Lu}\p{Lt}]"),
    CharacterRule(PasswordProblem.NO_LOWER, "require_lower", _is_lower, r"\p{Ll}"),
)


@dataclass(frozen=True)
class PasswordRule:
    """One line of the checklist shown on password forms.

    key names the rule ("length", a character rule's problem value, "common", "personal");
    check tells the browser how to test it: "length" (min/max code points), "pattern" (a
    character class in js_pattern) or "server" (only the server can tell: the common list,
    personal values).
    """

    key: str
    check: str
    js_pattern: str = ""
    min_length: int = 0
    max_length: int = 0


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules a new password must meet; defaults are issue 3's (and the seeds')."""

    min_length: int = 14
    max_length: int = 128
    require_special: bool = True
    require_digit: bool = True
    require_upper: bool = True
    require_lower: bool = True
    reject_common: bool = True
    # Words tied to this service that a password must not contain (ASVS 6.2.11, PW-04).
    context_words: tuple[str, ...] = ("passerelle",)

    def __post_init__(self) -> None:
        if self.min_length < MIN_ALLOWED_LENGTH:
            raise ValueError(f"PASSWORD_MIN_LENGTH must be at least {MIN_ALLOWED_LENGTH} (NIST SP 800-63B §5.1.1.2)")
        if self.max_length < self.min_length:
            raise ValueError("PASSWORD_MAX_LENGTH must not be below PASSWORD_MIN_LENGTH")
        if self.max_length > MAX_ALLOWED_LENGTH:
            raise ValueError(f"PASSWORD_MAX_LENGTH must be at most {MAX_ALLOWED_LENGTH}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PasswordPolicy:
        """The policy configured by the PASSWORD_* settings. Raises ValueError if inconsistent."""
        words = settings["PASSWORD_CONTEXT_WORDS"]
        if isinstance(words, str) or not all(isinstance(word, str) for word in words):
            raise ValueError("PASSWORD_CONTEXT_WORDS must be a list of words")
        return cls(
            min_length=int(settings["PASSWORD_MIN_LENGTH"]),
            max_length=int(settings["PASSWORD_MAX_LENGTH"]),
            require_special=bool(settings["PASSWORD_REQUIRE_SPECIAL"]),
            require_digit=bool(settings["PASSWORD_REQUIRE_DIGIT"]),
            require_upper=bool(settings["PASSWORD_REQUIRE_UPPER"]),
            require_lower=bool(settings["PASSWORD_REQUIRE_LOWER"]),
            reject_common=bool(settings["PASSWORD_REJECT_COMMON"]),
            context_words=tuple(words),
        )

    def character_rules(self) -> list[CharacterRule]:
        return [rule for rule in CHARACTER_RULES if getattr(self, rule.setting)]

    def rules(self) -> list[PasswordRule]:
        """The checklist, in the order it is shown; only the rules this policy enforces."""
        checklist = [PasswordRule("length", "length", min_length=self.min_length, max_length=self.max_length)]
        checklist += [PasswordRule(str(rule.problem), "pattern", js_pattern=rule.js_pattern) for rule in self.character_rules()]
        if self.reject_common:
            checklist.append(PasswordRule(str(PasswordProblem.COMMON), "server"))
        checklist.append(PasswordRule(str(PasswordProblem.PERSONAL), "server"))
        return checklist

    def problems(self, plain_password: str, *, personal: Iterable[str] = ()) -> list[PasswordProblem]:
        """Every rule the password breaks, in checklist order; empty when it is acceptable.

        Length is counted in code points after NFKC. Over max_length gives TOO_LONG alone:
        the other checks would only add noise, and the list look-up is skipped. personal
        holds the person's own values (email, its local part, names: see personal_values);
        those of 3 or more characters, and the context words, must not appear in the
        password, ignoring case and accents.
        """
        password = normalize_password(plain_password)
        length = len(password)
        if length > self.max_length:
            return [PasswordProblem.TOO_LONG]
        found: list[PasswordProblem] = []
        if length < self.min_length:
            found.append(PasswordProblem.TOO_SHORT)
        for rule in self.character_rules():
            if not any(rule.contains(character) for character in password):
                found.append(rule.problem)
        if self.reject_common and is_common_password(password):
            found.append(PasswordProblem.COMMON)
        if _contains_any(password, (*personal, *self.context_words)):
            found.append(PasswordProblem.PERSONAL)
        return found


def personal_values(email: str | None, given_name: str | None = None, family_name: str | None = None) -> list[str]:
    """What a password must not contain: the address, its local part, the names and each
    word of a compound name ("Marie-Ève" gives "Marie-Ève", "Marie" and "Ève")."""
    values: list[str] = []
    if email:
        values += [email, email.split("@", 1)[0]]
    for name in (given_name, family_name):
        if name:
            values.append(name)
            values += "".join(character if _is_letter(character) else " " for character in name).split()
    return values


def _fold(text: str) -> str:
    """Case and accents ignored: "Éloïse" and "ELOISE" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _contains_any(password: str, values: Iterable[str]) -> bool:
    folded = _fold(password)
    for value in values:
        needle = _fold(normalize_password(value.strip()))
        if len(needle) >= MIN_PERSONAL_LENGTH and needle in folded:
            return True
    return False


def common_password_key(plain_password: str) -> bytes:
    """The form in which entries are stored in the list: NFKC, lowercased, UTF-8."""
    return normalize_password(plain_password).lower().encode("utf-8", "surrogatepass")


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
    """True when the password, ignoring case, is on the shipped list (idp/data/README.md)."""
    if len(plain_password) > MAX_ALLOWED_LENGTH:
        return False  # the list holds nothing longer
    return common_password_key(plain_password) in _COMMON_PASSWORDS
