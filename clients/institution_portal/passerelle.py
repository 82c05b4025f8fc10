"""The one module that talks to Passerelle: sign-in (Authlib's Flask client, discovery,
code + PKCE S256, state, nonce), the checks on the ID token, and RP-initiated logout.

Authlib checks the ID token's signature (against Passerelle's JWKS), iss, aud, azp, exp, iat
and nonce (OIDC Core §3.1.3.7); claims.check_identity adds what this portal requires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError
from requests import RequestException
from sqlalchemy.orm import Session

from clients.institution_portal.claims import Identity, check_identity
from clients.institution_portal.config import Settings
from clients.institution_portal.errors import (
    BadState,
    InvalidIdToken,
    ProviderError,
    ProviderUnavailable,
    WrongIssuer,
)
from clients.institution_portal.models import SigninState
from clients.portal_kit.state_store import StateStore as KitStateStore
from clients.portal_kit.web import origin_of

SCOPE = "openid profile email organization"
CLIENT_NAME = "passerelle"


class StateStore(KitStateStore):
    """The portal's sign-in states (portal_kit.state_store) in its signin_states table."""

    def __init__(self, session: Callable[[], Session], clock: Callable[[], datetime]):
        super().__init__(session, clock, SigninState)


def register(app, settings: Settings, state_store: StateStore) -> OAuth:
    """Register Passerelle with Authlib's Flask client, from its discovery document."""
    oauth = OAuth(app, cache=state_store)
    oauth.register(
        CLIENT_NAME,
        client_id=settings.PORTAL_CLIENT_ID,
        client_secret=settings.PORTAL_CLIENT_SECRET,
        server_metadata_url=f"{settings.PORTAL_ISSUER}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
    )
    return oauth


class Passerelle:
    """Sign-in and sign-out through Passerelle, for the views (which own the request)."""

    def __init__(self, oauth: OAuth, settings: Settings):
        self._client = oauth.create_client(CLIENT_NAME)
        self._settings = settings

    @property
    def client(self):
        return self._client

    def metadata(self) -> dict[str, Any]:
        try:
            return self._client.load_server_metadata()
        except (RequestException, ValueError) as error:
            raise ProviderUnavailable(repr(error)) from error

    def issuer_origin(self) -> str:
        return origin_of(self._settings.PORTAL_ISSUER)

    def start(self, *, partner: bool, locale: str):
        """The redirect to Passerelle's authorization endpoint (a Flask response)."""
        self.metadata()
        extra = {"login_hint": "partner"} if partner else {}
        return self._client.authorize_redirect(
            self._settings.redirect_uri,
            acr_values=self._settings.PORTAL_REQUIRED_ACR,
            ui_locales=locale,
            **extra,
        )

    def finish(self, args: Mapping[str, str]) -> tuple[Identity, str]:
        """Redeem the authorization response: returns the identity and the raw ID token."""
        metadata = self.metadata()
        if metadata.get("authorization_response_iss_parameter_supported") and args.get("iss") != metadata["issuer"]:
            raise WrongIssuer(args.get("iss"))
        if args.get("error"):
            raise ProviderError(str(args["error"])[:64])
        if not args.get("state") or not args.get("code"):
            raise BadState("no state or code")
        try:
            token = self._client.authorize_access_token()
        except MismatchingStateError as error:
            raise BadState(str(error)) from error
        except OAuthError as error:
            raise ProviderError(error.error or "server_error") from error
        except (JoseError, ValueError) as error:
            raise InvalidIdToken(repr(error)) from error
        except RequestException as error:
            raise ProviderUnavailable(repr(error)) from error
        if "userinfo" not in token or "id_token" not in token:
            raise InvalidIdToken("no ID token")
        return self.check(token["userinfo"]), token["id_token"]

    def verify_id_token(self, token: Mapping[str, Any], nonce: str | None) -> Identity:
        """Authlib's checks, then the portal's, on a token response (used by tests)."""
        try:
            claims = self._client.parse_id_token(dict(token), nonce=nonce)
        except (JoseError, ValueError) as error:
            raise InvalidIdToken(repr(error)) from error
        if claims is None:
            raise InvalidIdToken("no ID token")
        return self.check(claims)

    def check(self, claims: Mapping[str, Any]) -> Identity:
        order = self.metadata().get("acr_values_supported") or ()
        return check_identity(claims, self._settings.PORTAL_REQUIRED_ACR, order)

    def logout(self, id_token: str | None, locale: str):
        """The redirect to Passerelle's end_session_endpoint (RP-Initiated Logout 1.0 §2)."""
        self.metadata()
        return self._client.logout_redirect(
            post_logout_redirect_uri=self._settings.post_logout_redirect_uri,
            id_token_hint=id_token,
            ui_locales=locale,
        )

    def is_our_logout_response(self) -> bool:
        try:
            self._client.validate_logout_response()
        except OAuthError:
            return False
        return True

