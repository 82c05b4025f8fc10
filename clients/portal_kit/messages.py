"""What a portal's sign-in refusal page says for the refusals every portal shares (the
errors of portal_kit.errors, and Passerelle's OAuth error codes). Each portal adds or
replaces entries (the institution portal's two-factor sentence differs from the document
portal's). Lazy strings: translated in the page's language when rendered."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from clients.portal_kit.errors import (
    BadState,
    InvalidIdToken,
    ProviderUnavailable,
    WrongIssuer,
)

SIGNIN_MESSAGES = {
    BadState: _l("This sign-in response does not match a sign-in started in this browser, or it was already used. "
                 "Start again from the sign-in page."),
    WrongIssuer: _l("The sign-in response did not come from Passerelle. Start again from the sign-in page."),
    InvalidIdToken: _l("Passerelle's answer could not be verified. Start again from the sign-in page."),
    ProviderUnavailable: _l("Passerelle cannot be reached right now. Try again in a few minutes."),
}
PROVIDER_MESSAGES = {
    "access_denied": _l("The sign-in was cancelled, or you did not allow Passerelle to share your information "
                        "with the portal."),
    "login_required": _l("You need to sign in at Passerelle again."),
    "interaction_required": _l("You need to sign in at Passerelle again."),
    "temporarily_unavailable": _l("Passerelle is temporarily unavailable. Try again in a few minutes."),
}
PROVIDER_FALLBACK = _l("Passerelle did not complete the sign-in.")
SIGNED_OUT_MISMATCH = _l("This sign-out response does not match a sign-out started here.")
