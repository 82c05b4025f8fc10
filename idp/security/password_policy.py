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

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idp.security.common_passwords import is_common_password
from idp.security.unicode_forms import (
    comparable_form,
    is_digit,
    is_letter,
    is_lower,
    is_special,
    is_upper,
    normalize_password,
    strip_invisible,
)

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
    CharacterRule(PasswordProblem.NO_SPECIAL, "require_special", is_special, r"[^\p{L}\p{M}\p{Nd}]"),
    CharacterRule(PasswordProblem.NO_DIGIT, "require_digit", is_digit, r"\p{Nd}"),
    CharacterRule(PasswordProblem.NO_UPPER, "require_upper", is_upper, r"[\p{Lu}\p{Lt}]"),
    CharacterRule(PasswordProblem.NO_LOWER, "require_lower", is_lower, r"\p{Ll}"),
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
            values += "".join(character if is_letter(character) else " " for character in name).split()
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
        pieces = "".join(character if is_letter(character) else " " for character in folded).split()
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
