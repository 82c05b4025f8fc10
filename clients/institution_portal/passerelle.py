"""The one module that talks to Passerelle for sign-in: portal_kit.signin's client (Authlib's
Flask client, discovery, code + PKCE S256, state, nonce, RFC 9207's iss, RP-initiated
logout), asking for two-factor and the organization scope, and the portal's checks on the
ID token (claims.check_identity) after Authlib's (signature, iss, aud, azp, exp, iat and
nonce: OIDC Core §3.1.3.7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from authlib.integrations.flask_client import OAuth
from sqlalchemy.orm import Session

from clients.institution_portal.claims import Identity, check_identity
from clients.institution_portal.config import Settings
from clients.institution_portal.models import SigninState
from clients.portal_kit import signin
from clients.portal_kit.signin import SigninClient
from clients.portal_kit.state_store import StateStore as KitStateStore

SCOPE = "openid profile email organization"
CLIENT_NAME = signin.CLIENT_NAME


class StateStore(KitStateStore):
    """The portal's sign-in states (portal_kit.state_store) in its signin_states table."""

    def __init__(self, session: Callable[[], Session], clock: Callable[[], datetime]):
        super().__init__(session, clock, SigninState)


def register(app, settings: Settings, state_store: StateStore) -> OAuth:
    """Register Passerelle with Authlib's Flask client, from its discovery document."""
    return signin.register(app, issuer=settings.PORTAL_ISSUER, client_id=settings.PORTAL_CLIENT_ID,
                           client_secret=settings.PORTAL_CLIENT_SECRET, scope=SCOPE, cache=state_store)


class Passerelle(SigninClient):
    """Sign-in and sign-out through Passerelle, for the views (which own the request)."""

    def __init__(self, oauth: OAuth, settings: Settings):
        super().__init__(oauth, issuer=settings.PORTAL_ISSUER, redirect_uri=settings.redirect_uri,
                         post_logout_redirect_uri=settings.post_logout_redirect_uri)
        self._settings = settings

    def start(self, *, partner: bool, locale: str):
        """The redirect to Passerelle's authorization endpoint, asking for two-factor."""
        extra = {"login_hint": "partner"} if partner else {}
        return super().start(locale=locale, acr_values=self._settings.PORTAL_REQUIRED_ACR, **extra)

    def finish(self, args: Mapping[str, str]) -> tuple[Identity, str]:
        """Redeem the authorization response: returns the identity and the raw ID token."""
        claims, id_token = super().finish(args)
        return self.check(claims), id_token

    def verify_id_token(self, token: Mapping[str, Any], nonce: str | None) -> Identity:
        """Authlib's checks, then the portal's, on a token response (used by tests)."""
        return self.check(self.parse_id_token(token, nonce))

    def check(self, claims: Mapping[str, Any]) -> Identity:
        return check_identity(claims, self._settings.PORTAL_REQUIRED_ACR, self.acr_order())
