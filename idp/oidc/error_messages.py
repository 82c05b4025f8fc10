"""What the authorization error page tells a person, in their language.

Authlib's error descriptions are English sentences written for developers ("Redirect URI …
is not supported by client."). They stay in the error_description sent back to a client,
but a page a person reads shows our own translated explanation instead (WCAG 3.1.2: no
English passage on a French page).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# (error code, a fragment of Authlib's or our description, explanation), first match wins.
# The fragments are Authlib 1.x's wording (rfc6749/grants) and idp.oidc.authorization's.
SPECIFIC = (
    ("invalid_client", "Missing 'client_id'", _l("The request does not say which service sent you here.")),
    ("invalid_client", "", _l("The service that sent you here is not registered with Passerelle.")),
    ("invalid_request", "is not supported by client", _l("The service asked to send you back to an address it has not registered with Passerelle.")),
    ("invalid_request", "'redirect_uri'", _l("The request does not say where to send you back after signing in.")),
    ("invalid_request", "Multiple ", _l("A parameter appears more than once in the request.")),
    ("invalid_request", "too long", _l("A parameter of the request is too long.")),
    ("invalid_request", "not allowed", _l("A parameter of the request contains characters that are not allowed.")),
    ("invalid_request", "mutually exclusive", _l("The request contains parameters that cannot be used together.")),
    ("invalid_request", "signed request objects", _l("The service must sign its requests to Passerelle, and this one was not signed.")),
    ("invalid_request", "push its authorization requests", _l("The service must send its request to Passerelle before sending you here.")),
    ("invalid_request_object", "", _l("The service's signed request could not be verified.")),
    ("request_not_supported", "", _l("The service sent its request in a form Passerelle does not accept.")),
    ("invalid_request_uri", "", _l("The service's request has expired or was already used. Return to the service and start again.")),
    ("unsupported_response_type", "", _l("The service asked for a kind of answer that Passerelle does not give.")),
    ("unauthorized_client", "", _l("The service is not allowed to make this kind of request.")),
    ("invalid_scope", "", _l("The service asked for information it is not allowed to request.")),
    ("access_denied", "", _l("The request was refused.")),
)
# When nothing above matches: never Authlib's text.
FALLBACK = {
    "invalid_request": _l("The request is incomplete or contains a value that is not valid."),
}
DEFAULT = _l("The request is not valid.")


def explain(error: str, description: str | None) -> str:
    """The translated explanation for an authorization error shown on a page."""
    text = description or ""
    for code, fragment, message in SPECIFIC:
        if error == code and fragment in text:
            return str(message)
    return str(FALLBACK.get(error, DEFAULT))
