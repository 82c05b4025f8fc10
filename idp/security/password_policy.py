"""What a new password must be: the rules, and the offline list of common passwords.

Pure: no Flask, no database. The same rule data feeds the server check (the authority) and
the live checklist in the browser (templates/_macros/password.html and
idp/static/js/password-rules.js), so the two cannot drift apart.

NIST SP 800-63B §5.1.1.2 (§3.1.1.2 in revision 4): at least 8 characters, up to at least
64, Unicode normalised (NFKC), checked against commonly used and compromised values and
context words. The composition rules (special, digit, upper, lower) are the seed journeys'
and are configurable.

Every comparison (the list, the person's values, the service's words, the guessability
estimate) is made on the comparable form of the password (issue 9): NFKC, invisible
characters removed, and letters of other scripts that look like Latin ones ("а" in
Cyrillic) folded to them, so "Pa\u200bsserelle" and "Pаsserelle" hide nothing. The
password that is hashed is not changed by this: only NFKC applies to it (passwords.py).
Guessability is zxcvbn's estimate, fed the person's values and the service's words; it
runs only when a password is set, never at sign-in.
"""

from __future__ import annotations

import functools
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
# zxcvbn's cost grows faster than the length (a random 128-character string took a second in
# one call, 64 characters about 50 ms): longer passwords are estimated 64 characters at a time.
STRENGTH_WINDOW = 64
# The strongest zxcvbn score; PASSWORD_MIN_STRENGTH is 0 (no estimate) to this.
MAX_STRENGTH = 4
# A list entry found once leading and trailing digits and symbols are taken away
# ("Password123456!" is "password") counts only from this many characters.
MIN_COMMON_CORE_LENGTH = 4


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
    GUESSABLE = "guessable"  # zxcvbn's estimate is below PASSWORD_MIN_STRENGTH
    BREACHED = "breached"  # the optional Pwned Passwords check found it (pwned_passwords.py)


def normalize_password(plain_password: str) -> str:
    """NFKC, so the same password typed on two keyboards is one password (800-63B §5.1.1.2).

    This is the form that is hashed; comparisons use comparable_form.
    """
    return unicodedata.normalize("NFKC", plain_password)


# Default-ignorable code points that are not format characters (Cf): the combining grapheme
# joiner, Hangul fillers, Khmer inherent vowels, Mongolian free variation selectors and the
# variation selectors (Unicode DerivedCoreProperties.txt, Default_Ignorable_Code_Point).
_IGNORABLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
                     (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF))
# The same set for the browser (password-rules.js removes it before counting and testing).
INVISIBLE_JS_PATTERN = r"[\p{Cf}" + "".join(
    rf"\u{{{low:X}}}-\u{{{high:X}}}" for low, high in _IGNORABLE_RANGES) + "]"


def _is_invisible(character: str) -> bool:
    if unicodedata.category(character) == "Cf":  # zero-width spaces and joiners, bidi controls, soft hyphen
        return True
    code = ord(character)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def strip_invisible(text: str) -> str:
    """Remove the characters that show nothing (format characters, variation selectors):
    "Pa\u200bsserelle" reads and compares as "Passerelle"."""
    return "".join(character for character in text if not _is_invisible(character))


@functools.cache
def _latin_look_alikes() -> dict[int, str]:
    """{code point: ASCII letter or digit} for characters of other scripts that look like one.

    From Unicode's confusables.txt (UTS #39) as the confusable_homoglyphs package ships it;
    built once per process, on the first password set (never on the sign-in path). Latin
    letters are left alone (accents are folded separately), and so is ASCII. Among the
    look-alikes a letter of the same case wins ("І" is "I", "і" is "i"), then any letter,
    then a digit ("З" is "3").
    """
    from confusable_homoglyphs import confusables
    from confusable_homoglyphs.categories import alias

    data = confusables.confusables_data

    def ascii_glyphs(character: str) -> list[str]:
        glyphs = (glyph["c"] for glyph in data.get(character, ()))
        return [glyph for glyph in glyphs if len(glyph) == 1 and glyph.isascii() and glyph.isalnum()]

    table: dict[int, str] = {}
    for character in data:
        if len(character) != 1 or character.isascii() or alias(character) == "LATIN":
            continue
        if unicodedata.normalize("NFKC", character) != character:
            continue  # NFKC has already mapped it
        candidates = ascii_glyphs(character)
        candidates += [more for candidate in candidates for more in ascii_glyphs(candidate)]
        if not candidates:
            continue
        category = unicodedata.category(character)
        letters = [glyph for glyph in candidates if glyph.isalpha()]
        same_case = [glyph for glyph in letters if unicodedata.category(glyph) == category]
        table[ord(character)] = (same_case or letters or candidates)[0]
    return table


def fold_confusables(text: str) -> str:
    """Letters of other scripts that look like Latin ones become those: "Pаss" (Cyrillic а)
    is "Pass". ASCII and Latin letters are unchanged."""
    if text.isascii():
        return text
    return text.translate(_latin_look_alikes())


def comparable_form(plain_password: str) -> str:
    """The form every comparison uses: NFKC, invisible characters removed, Latin look-alikes
    folded to Latin. Case and accents are kept (each comparison decides about them)."""
    return fold_confusables(normalize_password(strip_invisible(plain_password)))


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
    # The lowest zxcvbn score accepted (0 to 4; 0 turns the estimate off). 3 is "safely
    # unguessable: moderate protection from an offline slow-hash scenario" (10^8 guesses).
    min_strength: int = 3

    def __post_init__(self) -> None:
        if self.min_length < MIN_ALLOWED_LENGTH:
            raise ValueError(f"PASSWORD_MIN_LENGTH must be at least {MIN_ALLOWED_LENGTH} (NIST SP 800-63B §5.1.1.2)")
        if self.max_length < self.min_length:
            raise ValueError("PASSWORD_MAX_LENGTH must not be below PASSWORD_MIN_LENGTH")
        if self.max_length > MAX_ALLOWED_LENGTH:
            raise ValueError(f"PASSWORD_MAX_LENGTH must be at most {MAX_ALLOWED_LENGTH}")
        if (not isinstance(self.min_strength, int) or isinstance(self.min_strength, bool)
                or not 0 <= self.min_strength <= MAX_STRENGTH):
            raise ValueError(f"PASSWORD_MIN_STRENGTH must be a whole number from 0 to {MAX_STRENGTH}")

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
            min_strength=settings["PASSWORD_MIN_STRENGTH"],
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
        if self.min_strength:
            checklist.append(PasswordRule(str(PasswordProblem.GUESSABLE), "server"))
        return checklist

    def problems(self, plain_password: str, *, personal: Iterable[str] = ()) -> list[PasswordProblem]:
        """Every rule the password breaks, in checklist order; empty when it is acceptable.

        Length is counted in code points after NFKC, invisible characters left out, and
        only visible characters meet the character rules. Over max_length gives TOO_LONG
        alone: the other checks would only add noise, and the list look-up is skipped.
        personal holds the person's own values (email, its local part, names: see
        personal_values); those of 3 or more characters, and the context words, must not
        appear in the password, ignoring case, accents, invisible characters and look-alike
        letters. GUESSABLE (zxcvbn, fed the same values) is judged only when every other
        rule holds: it is the costly check, and one message at a time is clearer.
        """
        if len(plain_password) > MAX_ALLOWED_LENGTH:
            return [PasswordProblem.TOO_LONG]  # before any work on a huge input
        visible = normalize_password(strip_invisible(plain_password))
        length = len(visible)
        if length > self.max_length:
            return [PasswordProblem.TOO_LONG]
        found: list[PasswordProblem] = []
        if length < self.min_length:
            found.append(PasswordProblem.TOO_SHORT)
        for rule in self.character_rules():
            if not any(rule.contains(character) for character in visible):
                found.append(rule.problem)
        if self.reject_common and is_common_password(plain_password):
            found.append(PasswordProblem.COMMON)
        hints = (*personal, *self.context_words)
        if _contains_any(plain_password, hints):
            found.append(PasswordProblem.PERSONAL)
        if not found and self.min_strength and estimate_strength(plain_password, hints) < self.min_strength:
            found.append(PasswordProblem.GUESSABLE)
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
    """Case, accents, invisible characters and look-alikes ignored: "Éloïse", "ELOISE" and
    "Elоise" (Cyrillic о) fold alike."""
    decomposed = unicodedata.normalize("NFKD", comparable_form(text).casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _contains_any(password: str, values: Iterable[str]) -> bool:
    folded = _fold(password)
    for value in values:
        needle = _fold(value.strip())
        if len(needle) >= MIN_PERSONAL_LENGTH and needle in folded:
            return True
    return False


def _strength_hints(values: Iterable[str]) -> list[str]:
    """What zxcvbn should treat as known words: each value in its comparable form, and each
    run of letters in it ("jb.ouellette-lachance@example.ca" gives "lachance" and "example")."""
    hints: list[str] = []
    for value in values:
        folded = comparable_form(value.strip()).lower()
        pieces = "".join(character if _is_letter(character) else " " for character in folded).split()
        hints += [folded, *pieces]
    return [hint for hint in dict.fromkeys(hints) if len(hint) >= MIN_PERSONAL_LENGTH]


def estimate_strength(plain_password: str, hints: Iterable[str] = (), *, enough: int = MAX_STRENGTH) -> int:
    """zxcvbn's score, 0 (too guessable) to 4, of the comparable form of the password.

    hints are the person's values and the service's words, which an attacker who targets
    this person knows. A password longer than STRENGTH_WINDOW is scored window by window,
    keeping the best score: guessing the whole means guessing every window, so the whole
    is at least as strong. Stops at the first window scoring `enough`.
    """
    from zxcvbn import zxcvbn  # 25 ms to import: only when a password is set

    password = comparable_form(plain_password)
    user_inputs = _strength_hints(hints)
    best = 0
    for start in range(0, len(password), STRENGTH_WINDOW):
        window = password[start:start + STRENGTH_WINDOW]
        best = max(best, int(zxcvbn(window, user_inputs=user_inputs)["score"]))
        if best >= enough:
            break
    return best


def common_password_key(plain_password: str) -> bytes:
    """The form in which entries are stored in the list: NFKC, lowercased, UTF-8."""
    return normalize_password(plain_password).lower().encode("utf-8", "surrogatepass")


def _common_core(text: str) -> str:
    """The text without its leading and trailing digits and symbols: "password" for
    "Password123456!", the commonest way a listed password is made to meet the rules."""
    start, end = 0, len(text)
    while start < end and not _is_letter(text[start]):
        start += 1
    while end > start and not _is_letter(text[end - 1]):
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
    if len(plain_password) > MAX_ALLOWED_LENGTH:
        return False  # the list holds nothing longer
    candidates = {normalize_password(plain_password), comparable_form(plain_password)}
    candidates |= {core for core in map(_common_core, list(candidates)) if len(core) >= MIN_COMMON_CORE_LENGTH}
    return any(common_password_key(candidate) in _COMMON_PASSWORDS for candidate in candidates)
