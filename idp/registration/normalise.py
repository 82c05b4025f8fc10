"""Reading what people type into the registration forms, and one URL helper. Pure: no
Flask, no database."""

from __future__ import annotations

import unicodedata

import phonenumbers

from idp.registration.errors import InvalidPhoneNumber

CODE_DIGITS = 6
MAX_PHONE_LENGTH = 40


def normalise_phone_number(raw: str, region: str) -> str:
    """The number in E.164 (+15145550123), read as a `region` number unless it starts with +.

    Raises InvalidPhoneNumber when phonenumbers cannot parse it or says it is not a valid
    number anywhere (too short, an unassigned area code).
    """
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PHONE_LENGTH:
        raise InvalidPhoneNumber
    try:
        number = phonenumbers.parse(unicodedata.normalize("NFKC", raw), region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_code(typed: str | None) -> str | None:
    """Six digits, whatever the keyboard (NFKC folds full-width digits) and with spaces or
    hyphens dropped; None when it cannot be a verification code."""
    if not isinstance(typed, str) or len(typed) > 32:
        return None
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", typed) if ch not in " -\u00a0\t")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits
