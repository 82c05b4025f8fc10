"""Checking what people type for organizations: names, numbers, reasons. Pure: no database,
no Flask. Each refusal is InvalidOrganization(field, reason), so a page or the CLI can say
exactly which value is wrong and why.

Markup and bidirectional controls are refused rather than silently stripped: a name that
hides "<script>" or reverses its reading order (CVE-2021-42574, "Trojan Source") is a mistake
or an attack, and the person should see their text refused, not altered behind their back.
"""

from __future__ import annotations

import re
import unicodedata

from idp.orgs.errors import InvalidOrganization
from idp.orgs.models import OrganizationKind
from idp.security.unicode_forms import has_hidden_characters

MAX_NAME_LENGTH = 200
MAX_REASON_LENGTH = 1000
# A DLI number, as IRCC prints it: the letter O and twelve digits.
DLI_NUMBER = re.compile(r"O[0-9]{12}")
# Other kinds: a school's own number, letters, digits and hyphens.
OTHER_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile(r"[\t\n\r]")
_MARKUP = re.compile(r"[<>]")


def clean_text(field: str, value: object, max_length: int, *, required: bool, multiline: bool = False) -> str | None:
    """The value stripped and NFC-normalised, or None when it is empty and not required.

    Raises InvalidOrganization for a value that is not text, too long, or holds control,
    bidirectional or invisible characters or markup (< or >).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidOrganization(field, "not text", "not_text")
    cleaned = unicodedata.normalize("NFC", value.strip())
    if not cleaned:
        if required:
            raise InvalidOrganization(field, "missing", "missing")
        return None
    if len(cleaned) > max_length:
        raise InvalidOrganization(field, f"longer than {max_length} characters", "too_long")
    if _CONTROL.search(cleaned) or (not multiline and _LINE_BREAK.search(cleaned)):
        raise InvalidOrganization(field, "control characters or line breaks are not allowed", "line_break")
    if has_hidden_characters(_LINE_BREAK.sub("", cleaned)):
        raise InvalidOrganization(field, "bidirectional control or invisible characters are not allowed", "bidi")
    if _MARKUP.search(cleaned):
        raise InvalidOrganization(field, "markup characters (< and >) are not allowed", "markup")
    return cleaned


def clean_name(field: str, value: object) -> str:
    return clean_text(field, value, MAX_NAME_LENGTH, required=True)


def clean_reason(field: str, value: object, *, required: bool = True) -> str | None:
    return clean_text(field, value, MAX_REASON_LENGTH, required=required, multiline=True)


def clean_kind(value: object) -> str:
    if value not in tuple(OrganizationKind):
        raise InvalidOrganization("kind", "must be dli or issuer")
    return str(value)


def clean_number(kind: str, value: object) -> str:
    """The number in its one stored form: stripped, upper case, no inner spaces.

    A DLI number reads O followed by twelve digits ("O123456789012"); a lower-case o or a
    leading zero typed for the letter O is read as the letter.
    """
    if not isinstance(value, str):
        raise InvalidOrganization("number", "not text")
    number = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    if kind == OrganizationKind.DLI:
        if len(number) == 13 and number[0] == "0":
            number = "O" + number[1:]
        if not DLI_NUMBER.fullmatch(number):
            raise InvalidOrganization("number", "a DLI number is the letter O and 12 digits, like O123456789012")
    elif not OTHER_NUMBER.fullmatch(number):
        raise InvalidOrganization("number", "1 to 32 letters, digits or hyphens")
    return number
