"""Sign-in and sign-out through Passerelle with Authlib's Flask client: discovery, code +
PKCE S256, state and nonce (kept in the portal's database, state_store.py), RFC 9207's iss,
and RP-initiated logout. Authlib checks the ID token's signature (Passerelle's JWKS), iss,
aud, azp, exp, iat and nonce (OIDC Core §3.1.3.7); the portal checks what it requires of
the claims (id_token.py and its own rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import redirect
from joserfc.errors import JoseError
from requests import RequestException

from clients.portal_kit.errors import (
    BadState,
    InvalidIdToken,
    ProviderError,
    ProviderUnavailable,
    WrongIssuer,
)
from clients.portal_kit.web import origin_of

CLIENT_NAME = "passerelle"


def register(app, *, issuer: str, client_id: str, client_secret: str, scope: str, cache) -> OAuth:
    """Register Passerelle with Authlib's Flask client, from its discovery document."""
    oauth = OAuth(app, cache=cache)
    oauth.register(
        CLIENT_NAME,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": scope, "code_challenge_method": "S256"},
    )
    return oauth


class SigninClient:
    """Sign-in and sign-out, for the views (which own the request)."""

    def __init__(self, oauth: OAuth, *, issuer: str, redirect_uri: str, post_logout_redirect_uri: str):
        self._client = oauth.create_client(CLIENT_NAME)
        self.issuer = issuer
        self.redirect_uri = redirect_uri
        self.post_logout_redirect_uri = post_logout_redirect_uri

    @property
    def client(self):
        return self._client

    def metadata(self) -> dict[str, Any]:
        try:
            return self._client.load_server_metadata()
        except (RequestException, ValueError) as error:
            raise ProviderUnavailable(repr(error)) from error

    def acr_order(self) -> list[str]:
        """Passerelle's assurance levels, lowest to highest (acr_values_supported)."""
        return list(self.metadata().get("acr_values_supported") or ())

    def issuer_origin(self) -> str:
        return origin_of(self.issuer)

    def start(self, *, locale: str, **extra: str):
        """The redirect to Passerelle's authorization endpoint (a Flask response); extra
        parameters (acr_values, login_hint, prompt) go into the request."""
        self.metadata()
        return self._client.authorize_redirect(self.redirect_uri, ui_locales=locale, **extra)

    def finish(self, args: Mapping[str, str]) -> tuple[dict[str, Any], str]:
        """Redeem the authorization response: returns the verified ID token's claims and the
        raw ID token. Raises a SigninError."""
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
        return dict(token["userinfo"]), token["id_token"]

    def parse_id_token(self, token: Mapping[str, Any], nonce: str | None) -> dict[str, Any]:
        """Authlib's checks on a token response (tests feed forged ones)."""
        try:
            claims = self._client.parse_id_token(dict(token), nonce=nonce)
        except (JoseError, ValueError) as error:
            raise InvalidIdToken(repr(error)) from error
        if claims is None:
            raise InvalidIdToken("no ID token")
        return dict(claims)

    def logout(self, id_token: str | None, locale: str):
        """The redirect to Passerelle's end_session_endpoint (RP-Initiated Logout 1.0 §2)."""
        self.metadata()
        return self._client.logout_redirect(
            post_logout_redirect_uri=self.post_logout_redirect_uri,
            id_token_hint=id_token,
            ui_locales=locale,
        )

    def sign_out(self, id_token: str | None, locale: str, signed_out_url: str):
        """After the portal's own session closed: Passerelle's logout when there was an ID
        token, else straight to the portal's signed-out page. Raises ProviderUnavailable."""
        if id_token is None:
            return redirect(signed_out_url)
        return self.logout(id_token, locale)

    def is_our_logout_response(self) -> bool:
        try:
            self._client.validate_logout_response()
        except OAuthError:
            return False
        return True
