"""The portal's client for Passerelle's organizations API, as views get it (the users,
letters and reports views use it)."""

from __future__ import annotations

from flask import current_app

from clients.institution_portal.organizations_api import OrganizationsApi
from clients.institution_portal.web import portal

API_KEY = "institution_portal_organizations_api"


def get_organizations_api() -> OrganizationsApi:
    """One client per app, so its access token serves every request until near expiry."""
    if API_KEY not in current_app.extensions:
        current_app.extensions[API_KEY] = OrganizationsApi(portal().settings, portal().clock)
    return current_app.extensions[API_KEY]
