"""What each scope lets a client see, in words the consent page shows."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SCOPE_DESCRIPTIONS = {
    "openid": _l("Confirm that it is you, with an identifier that stays the same each time you sign in."),
    "profile": _l("Your name."),
    "email": _l("Your email address."),
    "phone": _l("Your phone number."),
    "address": _l("Your postal address."),
    "offline_access": _l("Keep this access when you are not using the service, until you withdraw it."),
    "organization": _l("The organization you represent (its name and number) and your role in it."),
}


def describe_scopes(scope: str) -> list[tuple[str, str | None]]:
    """(scope, description) for each requested scope, in order; None for unknown scopes."""
    seen: dict[str, None] = dict.fromkeys(scope.split())
    return [(name, SCOPE_DESCRIPTIONS.get(name)) for name in seen]
