"""The checks on an invitation's own text fields (names, purpose, creator, client): what
InvitationService.create stores and the email shows. Pure: no Flask, no database; each
check raises InvalidInvitation naming the field, so the API answers a clear 400.
"""

from __future__ import annotations

from idp.invitations.errors import InvalidInvitation
from idp.security.unicode_forms import has_hidden_characters

MAX_NAME_LENGTH = 200
MAX_PURPOSE_LENGTH = 500
MAX_CREATOR_ID_LENGTH = 200
MAX_CLIENT_ID_LENGTH = 64


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInvitation(field, "not text")
    cleaned = value.strip()
    if not cleaned:
        return None
    if len(cleaned) > max_length:
        raise InvalidInvitation(field, f"longer than {max_length} characters")
    if has_hidden_characters(cleaned):
        # Names and purpose are shown in the email: no header break, no disguised name.
        raise InvalidInvitation(field, "control, bidirectional or invisible characters are not allowed")
    return cleaned


def required_text(field: str, value: str | None, max_length: int) -> str:
    cleaned = optional_text(field, value, max_length)
    if cleaned is None:
        raise InvalidInvitation(field, "missing")
    return cleaned
