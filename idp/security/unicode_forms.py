"""Unicode forms of a password: the form that is hashed (NFKC) and the form every comparison
uses (invisible characters removed, Latin look-alikes of other scripts folded to Latin), and
the character classes the composition rules count.

Pure: no Flask, no database. Issue 9: "Pa\u200bsserelle" and "Pаsserelle" (Cyrillic а) hide
nothing from the checks in password_policy.py and common_passwords.py.
"""

from __future__ import annotations

import functools
import unicodedata


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


def has_hidden_characters(text: str) -> bool:
    """True when text holds a control character (line breaks included), a line or paragraph
    separator, or an invisible one (bidi controls, zero-width characters, variation
    selectors). In a name shown to someone else, each can break a mail header (VAL-02) or
    make the name read as another's (Trojan Source, CVE-2021-42574)."""
    return any(unicodedata.category(character) in ("Cc", "Zl", "Zp") or _is_invisible(character) for character in text)


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
def is_letter(character: str) -> bool:
    return unicodedata.category(character)[0] in "LM"


def is_digit(character: str) -> bool:
    return unicodedata.category(character) == "Nd"


def is_special(character: str) -> bool:
    """Anything that is neither a letter nor a digit: punctuation, symbols, emoji, a space."""
    return not (is_letter(character) or is_digit(character))


def is_upper(character: str) -> bool:
    return unicodedata.category(character) in ("Lu", "Lt")


def is_lower(character: str) -> bool:
    return unicodedata.category(character) == "Ll"
