"""What the sign-in views and others share: the refusal pages and signing out (the portal's
session, then Passerelle's). Other features import these from here, never from auth.views."""

from __future__ import annotations

from flask import session, url_for
from flask_babel import lazy_gettext as _l

from clients.institution_portal.db import db
from clients.institution_portal.errors import (
    AssuranceTooLow,
    NoMembership,
    NotAnInstitution,
    ProviderError,
    ProviderUnavailable,
    SigninError,
)
from clients.institution_portal.web import SESSION_TOKEN_KEY, locale, page, portal, session_service
from clients.portal_kit.messages import PROVIDER_FALLBACK, SIGNIN_MESSAGES
from clients.portal_kit.messages import PROVIDER_MESSAGES as KIT_PROVIDER_MESSAGES
from clients.portal_kit.web import restart_session

# (template, HTTP status, heading) for each refusal; the templates say what to do next.
REFUSALS = {
    AssuranceTooLow: ("refused_two_factor.html", 403),
    NoMembership: ("refused_membership.html", 403),
    NotAnInstitution: ("refused_membership.html", 403),
}
MESSAGES = SIGNIN_MESSAGES
PROVIDER_MESSAGES = {
    **KIT_PROVIDER_MESSAGES,
    "unmet_authentication_requirements": _l("The portal requires two-factor authentication, and your Passerelle "
                                            "account has no method that provides it yet."),
}


def refused(error: SigninError):
    if type(error) in REFUSALS:
        template, status = REFUSALS[type(error)]
        return page(template, status, not_an_institution=isinstance(error, NotAnInstitution))
    if isinstance(error, ProviderError):
        message = PROVIDER_MESSAGES.get(error.code, PROVIDER_FALLBACK)
        return page("refused.html", 400, message=message, code=error.code,
                    two_factor=error.code == "unmet_authentication_requirements")
    return page("refused.html", 503 if isinstance(error, ProviderUnavailable) else 400, message=MESSAGES[type(error)])


def sign_out(declined: bool = False):
    """End the portal session, then Passerelle's (RP-initiated logout with id_token_hint)."""
    id_token = session_service().close(session.get(SESSION_TOKEN_KEY))
    restart_session()
    if declined:
        session["declined_terms"] = True
    try:
        response = portal().passerelle.sign_out(id_token, locale(), url_for("auth.signed_out"))
    except ProviderUnavailable:
        db.session.commit()
        return refused(ProviderUnavailable())
    db.session.commit()
    return response
