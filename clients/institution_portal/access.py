"""Who may open a page: a signed-in member who accepted the portal's terms, and for some
pages the institution's primary user only (a secondary user gets a clear 403 page)."""

from __future__ import annotations

from functools import wraps

from flask import redirect, url_for

from clients.institution_portal.terms.web import get_terms_service
from clients.institution_portal.web import current_portal_session, page

PRIMARY = "primary"


def member_required(view):
    """Signed in (else the sign-in page) and the current terms accepted (else the terms)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        person = current_portal_session()
        if person is None:
            return redirect(url_for("auth.login"))
        if not get_terms_service().has_accepted(person.sub):
            return redirect(url_for("terms.show"))
        return view(*args, **kwargs)

    return wrapped


def primary_required(view):
    """member_required, and the institution's primary user: others get the 403 page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_portal_session().role != PRIMARY:
            return page("forbidden.html", 403)
        return view(*args, **kwargs)

    return member_required(wrapped)
