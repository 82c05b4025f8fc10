"""The Authlib authorization server, wired to Passerelle's storage, keys and clients."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Flask, request
from joserfc import jwt

from idp.accounts.models import User
from idp.context import AppContext
from idp.extensions import db
from idp.oidc import claims as oidc_claims
from idp.oidc.client_keys import ClientKeys
from idp.oidc.directory import ClientDirectory, KeyRing, OAuthClient
from idp.oidc.dpop import DPoPBinding, DPoPVerifier
from idp.oidc.es256 import ALG as ES256_ALG
from idp.oidc.es256 import ES256Signer
from idp.oidc.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    IdTokenExtension,
    NonceCheck,
    PasserelleCodeChallenge,
    PrivateKeyJWT,
    RefreshTokenGrant,
    remember_jti,
)
from idp.oidc.keys import KeyService
from idp.oidc.token_queries import GrantContext, Person
from idp.oidc.tokens import TokenService
from idp.orgs.claims import organization_claim

ENDPOINT_PATHS = {
    "authorization": "/authorize",
    "token": "/token",
    "userinfo": "/userinfo",
    "jwks": "/jwks",
    "revocation": "/revoke",
    "introspection": "/introspect",
    "end_session": "/logout",
    "pushed_authorization_request": "/par",
}


class IssuerRequest(OAuth2Request):
    """An OAuth2Request whose URI comes from the configured issuer, never the Host header
    (security-checklist §0.7), with its parameters from Flask or from a stored dict."""

    def __init__(self, issuer: str, path: str, method: str, headers, payload):
        super().__init__(method=method, uri=issuer + path, headers=headers)
        self.payload = payload
        self._form = None

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return request.form if self._form is None else self._form


class PasserelleServer(AuthorizationServer):
    def __init__(self, app: Flask, context: AppContext):
        super().__init__()
        settings = context.settings
        self.context = context
        self.issuer = settings.OIDC_ISSUER
        self.clients = ClientDirectory(context.hasher, settings.OIDC_CLIENT_CACHE_TTL, context.clock)
        self.key_ring = KeyRing(settings.OIDC_KEY_CACHE_TTL)
        self.client_keys = ClientKeys()  # jwks or jwks_uri: private_key_jwt, request objects
        self.es256 = ES256Signer()  # ID and logout tokens signed with ES256, without joserfc's overhead
        self.init_app(app, query_client=lambda client_id: self.clients.get(db.session, client_id))
        self.scopes_supported = None  # each client's registered scopes decide
        # DPoPBinding: a proof in the DPoP header binds the tokens to its key (RFC 9449).
        self.register_grant(AuthorizationCodeGrant, [PasserelleCodeChallenge(required=True), NonceCheck(), IdTokenExtension(),
                                                     DPoPBinding()])
        self.register_grant(RefreshTokenGrant, [IdTokenExtension(), DPoPBinding()])
        self.register_grant(ClientCredentialsGrant, [DPoPBinding()])
        self.register_client_auth_method("client_secret_basic", authenticate_client_secret_basic)
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(self))

    # Collaborators --------------------------------------------------------------------------

    def tokens(self) -> TokenService:
        return TokenService(db.session, self.context.settings, self.context.clock, self.context.hasher)

    def dpop(self) -> DPoPVerifier:
        return DPoPVerifier(db.session, self.context.settings, self.context.clock, self.context.hasher)

    def keys(self) -> KeyService:
        return KeyService(db.session, self.context.settings, self.context.clock, self.context.secret_box)

    def active_keys(self):
        return self.key_ring.active(self.keys(), db.session.commit)

    def active_user(self, user_id: int | None) -> User | None:
        user = db.session.get(User, user_id) if user_id else None
        return user if user is not None and user.is_active else None

    def authenticate_client(self, request, methods, endpoint="token"):
        """Authlib's client authentication, plus RFC 6749 §2.3: one method per request (HTTP
        Basic, a secret in the body or an assertion; several is invalid_request), and a body
        `client_id`, when sent, must name the client that authenticated (invalid_client)."""
        presented = credentials_presented(request)
        if len(presented) > 1:
            raise InvalidRequestError(f"Use one client authentication method, not {' and '.join(presented)}.")
        client = super().authenticate_client(request, methods, endpoint)
        body_client_id = request.form.get("client_id")
        if body_client_id is not None and body_client_id != client.client_id:
            status = 401 if "client_secret_basic" in presented else 400
            raise InvalidClientError(status_code=status, description="'client_id' does not name the authenticated client.")
        return client

    def endpoint_url(self, name: str) -> str:
        return self.issuer + ENDPOINT_PATHS[name]

    def remember_jti(self, client_id: str, jti: str, exp) -> bool:
        return remember_jti(db.session, self.context.hasher, self.context.clock, client_id, jti, exp)

    # Requests --------------------------------------------------------------------------------

    def create_oauth2_request(self, flask_request=None) -> OAuth2Request:
        if isinstance(flask_request, OAuth2Request):
            return flask_request
        return IssuerRequest(self.issuer, request.path, request.method, request.headers, FlaskOAuth2Payload(request))

    def stored_request(self, params: dict[str, str]) -> OAuth2Request:
        """Rebuild an authorization request saved in a sign-in transaction."""
        stored = IssuerRequest(self.issuer, ENDPOINT_PATHS["authorization"], "GET", {}, BasicOAuth2Payload(dict(params)))
        stored._form = {}
        return stored

    # Tokens ----------------------------------------------------------------------------------

    def subject(self, client: OAuthClient, user: User | Person) -> str:
        return oidc_claims.subject_for(client.subject_type, client.sector_identifier, user.subject,
                                       self.context.settings.OIDC_PAIRWISE_SALT)

    def sign_id_token(self, *, client: OAuthClient, user: User | Person, context: GrantContext, nonce: str | None,
                      access_token: str | None) -> str:
        settings = self.context.settings
        requested = (context.requested_claims or {}).get("id_token")
        extra = None
        if requested:
            # Claims asked for in the ID token (OIDC Core §5.5), among those this token's
            # scope releases, need the whole record.
            record = user if isinstance(user, User) else db.session.get(User, user.id)
            extra = oidc_claims.claims_for_scope(context.scope, oidc_claims.user_claims(record), only=requested)
        # The organization claim is in every ID token whose scope releases it (issue 11).
        extra = {**(extra or {}), **self.organization_claims(context.scope, user.id)}
        payload = oidc_claims.id_token_claims(
            issuer=self.issuer,
            subject=self.subject(client, user),
            client_id=client.client_id,
            now=self.context.clock(),
            ttl=settings.OIDC_ID_TOKEN_TTL,
            auth_time=context.auth_time,
            nonce=nonce,
            acr=context.acr,
            amr=context.amr,
            sid=context.sid,
            at_hash=oidc_claims.half_hash(access_token) if access_token else None,
            extra=extra,
        )
        return self.sign(payload, client.id_token_alg)

    def organization_claims(self, scope: str, user_id: int) -> dict:
        """{"organization": ...} when the scope includes `organization` and the person has an
        active membership, else {}. The membership is read only when the scope is granted,
        so other tokens cost no query."""
        if oidc_claims.ORGANIZATION_SCOPE not in scope.split():
            return {}
        claim = organization_claim(db.session, user_id)
        return {"organization": claim} if claim else {}

    def sign(self, payload: dict, alg: str, typ: str = "JWT") -> str:
        kid, key = self.active_keys().signing[alg]
        if alg == ES256_ALG and self.es256.can_sign(key):
            return self.es256.sign(kid, key, payload, typ)
        return jwt.encode({"alg": alg, "kid": kid, "typ": typ}, payload, key, algorithms=[alg])


def credentials_presented(oauth_request) -> list[str]:
    """The client authentication methods a request carries credentials for."""
    form = oauth_request.form
    presented = []
    if oauth_request.headers.get("Authorization", "").partition(" ")[0].lower() == "basic":
        presented.append("client_secret_basic")
    if "client_secret" in form:
        presented.append("client_secret_post")
    if "client_assertion" in form or "client_assertion_type" in form:
        presented.append("private_key_jwt")
    return presented


def authenticate_client_secret_basic(query_client, oauth_request):
    """client_secret_basic with RFC 6749 §2.3.1 decoding: id and secret are form-urlencoded
    before base64, so "+" is a space; undecodable headers fail authentication, never a 500."""
    return client_from_basic_header(query_client, oauth_request.headers.get("Authorization", ""))


def client_from_basic_header(query_client, header: str):
    """The client an HTTP Basic Authorization header value authenticates, or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, separator, client_secret = decoded.partition(":")
    if not separator:
        return None
    client = query_client(unquote_plus(client_id))
    if client is not None and client.check_client_secret(unquote_plus(client_secret)):
        return client
    return None
