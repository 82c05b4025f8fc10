"""Authlib grants and extensions, adjusted to Passerelle's rules.

- Codes and tokens live in TokenService as keyed hashes; a code is spent by one
  conditional UPDATE (no check-then-delete race, unlike Authlib's default order).
- PKCE: S256 only; `plain` and a challenge without a method are refused (Authlib would
  default to plain); required from every client but a confidential one the operator opted
  out (`idp clients update --no-pkce`, security checklist OIDC-03).
- The ID token carries only `sub` and protocol claims: profile claims go to UserInfo.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy.exc import IntegrityError

from idp.oidc.client_rules import signing_algs_for
from idp.oidc.dpop import bound_key
from idp.oidc.models import ClientAssertionJti
from idp.oidc.token_queries import GrantContext, Person
from idp.ops import metrics
from idp.security.secrets import new_token

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
# Published as token_endpoint_auth_signing_alg_values_supported: what a client assertion may
# be signed with (a fapi2 client: fewer, client_rules.signing_algs_for).
ASSERTION_ALGS = ["RS256", "PS256", "ES256"]
# A person's scopes: never on a client_credentials token, where no person is involved.
USER_SCOPES = {"openid", "offline_access", "profile", "email", "phone", "address", "organization"}


class PasserelleCodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": lambda verifier, challenge: hmac.compare_digest(
        create_s256_code_challenge(verifier), challenge)}

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if challenge and not method:
            raise InvalidRequestError("'code_challenge_method' is required: use S256.")
        if method and method != "S256":
            raise InvalidRequestError("Only the S256 'code_challenge_method' is supported.")
        if not challenge and (grant.request.client.is_public or grant.request.client.require_pkce):
            raise InvalidRequestError("This client must use PKCE: send code_challenge with S256 (RFC 9700 section 2.1.1).")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        """A verifier without a challenge is a downgrade attempt: invalid_grant (RFC 9700 §4.8)."""
        verifier = grant.request.form.get("code_verifier")
        if verifier and not grant.request.authorization_code.code_challenge:
            raise InvalidGrantError("The authorization request had no 'code_challenge'.")
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_authorization_code(self, code, client):
        # Only looked up here; spent in create_token_response, just before the INSERT, so
        # the write transaction (SQLite's one writer) stays as short as possible.
        self.found_code = self.server.tokens().find_code(code, client.client_id)
        return self.found_code

    def validate_token_request(self):
        """A code presented with a wrong verifier or redirect URI is burned (RFC 9700 §4.8)."""
        try:
            super().validate_token_request()
        except OAuth2Error:
            if getattr(self, "found_code", None) is not None:
                self.server.tokens().spend_code(self.request.form["code"], self.found_code.client_id)
            raise

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: spending the code already marked it used."""

    def save_authorization_code(self, code, request):
        raise NotImplementedError("codes are created by TokenService.create_code")

    def authenticate_user(self, authorization_code):
        return active_person(authorization_code.person)

    @hooked
    def create_token_response(self):
        authorization_code = self.request.authorization_code
        user = self.authenticate_user(authorization_code)
        if user is None:
            raise InvalidGrantError("The account is no longer active.")
        # The conditional UPDATE decides the one winner among concurrent redemptions; the
        # code read before is the winner's (a code changes only when it is spent).
        if not self.server.tokens().spend_code(self.request.form["code"], self.request.client.client_id):
            raise InvalidGrantError("Invalid 'code' in request.")
        self.request.user = user
        context = self.server.tokens().context_of(authorization_code)
        self.request.grant_context = context
        token = self.server.tokens().issue(
            context, include_refresh_token=self.request.client.check_grant_type("refresh_token"),
            dpop_jkt=bound_key(self.request))
        metrics.count_token(self.GRANT_TYPE, context.client_id)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotation on every use; a rotated token presented again revokes its grant."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client):
        plain_refresh = self.request.form.get("refresh_token")
        if not plain_refresh:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        # Look before spending, so that a bad scope below does not burn the token.
        token = self.server.tokens().find_active_refresh_token(plain_refresh)
        if token is None or token.client_id != client.client_id:
            # A rotated token presented again is reuse: spending it revokes the grant.
            self.server.tokens().rotate_refresh_token(plain_refresh, client.client_id)
            raise InvalidGrantError("The refresh token is invalid, expired or revoked.")
        return token

    def _validate_token_scope(self, token):
        requested = (self.request.payload.scope or "").split()
        if any(value not in token.grant_scope.split() for value in requested):
            raise InvalidScopeError("The scope may not grow on refresh (RFC 6749 section 6).")

    def authenticate_refresh_token(self, refresh_token):
        raise NotImplementedError("refresh tokens are looked up by TokenService")

    def authenticate_user(self, refresh_token):
        return active_person(refresh_token.person)

    def revoke_old_credential(self, refresh_token):
        """Nothing to do: rotation spent the old token."""

    @hooked
    def create_token_response(self):
        tokens = self.server.tokens()
        parent = self.request.refresh_token
        user = self.authenticate_user(parent)
        if user is None:
            raise InvalidGrantError("The account is no longer active.")
        # Reads first, then the write: the conditional UPDATE decides the one winner, and the
        # row read before is the winner's (a token changes only when rotated or revoked,
        # which the UPDATE checks again).
        if not tokens.rotate_refresh_token(self.request.form["refresh_token"], self.request.client.client_id):
            raise InvalidGrantError("The refresh token is invalid, expired or revoked.")
        self.request.user = user
        # A narrower scope narrows this access token only; the grant keeps its scope.
        context = tokens.context_of(parent, scope=self.request.payload.scope or parent.grant_scope)
        self.request.grant_context = context
        token = tokens.issue(context, include_refresh_token=True, dpop_jkt=bound_key(self.request))
        metrics.count_token(self.GRANT_TYPE, context.client_id)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self):
        super().validate_token_request()
        requested = (self.request.payload.scope or "").split()
        allowed = [value for value in self.request.client.scopes if value not in USER_SCOPES]
        if any(value not in allowed for value in requested):
            raise InvalidScopeError("The client may not request this scope.")

    @hooked
    def create_token_response(self):
        client = self.request.client
        requested = (self.request.payload.scope or "").split()
        scope = " ".join(requested or [v for v in client.scopes if v not in USER_SCOPES])
        context = GrantContext(grant_id=new_token(16), client_id=client.client_id, user_id=None, session_id=None, scope=scope)
        self.request.grant_context = context
        token = self.server.tokens().issue(context, include_refresh_token=False, dpop_jkt=bound_key(self.request))
        metrics.count_token(self.GRANT_TYPE, context.client_id)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class IdTokenExtension:
    """Adds the ID token to token responses whose scope includes openid."""

    def __call__(self, grant):
        grant.register_hook("after_create_token_response", self.add_id_token)

    def add_id_token(self, grant, response):
        _, token, _ = response
        if "openid" not in token.get("scope", "").split() or grant.request.user is None:
            return
        nonce = getattr(grant.request.authorization_code, "nonce", None)
        token["id_token"] = grant.server.sign_id_token(
            client=grant.request.client,
            user=grant.request.user,
            context=grant.request.grant_context,
            nonce=nonce,
            access_token=token["access_token"],
        )


class NonceCheck:
    """OIDC Core §3.1.2.1: nonce is optional for the code flow but bounded in size."""

    def __call__(self, grant):
        grant.register_hook("after_validate_authorization_request_payload", self.validate)

    def validate(self, grant, redirect_uri):
        nonce = grant.request.payload.data.get("nonce")
        if nonce is not None and (not nonce or len(nonce) > 512):
            raise InvalidRequestError("Invalid 'nonce'.")


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt (RFC 7523, OIDC Core §9) with single-use `jti` and a short life.

    Authlib 1.9 checks `exp` against the system time and bounds nothing else, so an assertion
    valid for a year, or signed a day ago, would authenticate (Keycloak CVE-2023-0105's kind).
    Here `iat` is required and the assertion lives at most OIDC_CLIENT_ASSERTION_MAX_AGE
    seconds (`exp - iat`, and its age at use), on the injected clock, with CLOCK_SKEW seconds
    of leeway for the client's clock.
    """

    CLIENT_AUTH_METHOD = "private_key_jwt"
    CLOCK_SKEW = 30  # seconds

    def __init__(self, server):
        super().__init__(validate_jti=True, leeway=self.CLOCK_SKEW)
        self.server = server

    def __call__(self, query_client, request):
        def client_whose_algorithm_checks_out(client_id):
            client = query_client(client_id)
            if client is not None:
                self.check_algorithm(client, request.form.get("client_assertion"))
            return client

        return super().__call__(client_whose_algorithm_checks_out, request)

    @staticmethod
    def check_algorithm(client, assertion: str) -> None:
        """The assertion's alg is one this client may sign with (a fapi2 client: PS256 or
        ES256). Raises InvalidClientError."""
        allowed = signing_algs_for(client, ASSERTION_ALGS)
        try:
            alg = jws.extract_compact(assertion.encode()).protected.get("alg")
        except (JoseError, ValueError, TypeError, AttributeError):
            alg = None  # Authlib refuses what does not parse
        if alg not in allowed:
            raise InvalidClientError(description=f"The client assertion must be signed with one of {', '.join(allowed)}.")

    def process_assertion_claims(self, assertion, resolve_key):
        """Authlib's, with the algorithms Passerelle publishes: joserfc's default list
        leaves out PS256. Raises InvalidClientError."""
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGS)
        except JoseError as error:
            raise InvalidClientError(description=error.description) from error
        self.verify_claims(token.claims)
        return token.claims

    def get_audiences(self):
        return [self.server.endpoint_url("token"), self.server.issuer]

    def resolve_client_public_key(self, client):
        return self.server.client_keys.for_client(client)

    def verify_claims(self, claims):
        """RFC 7523 §3 (iss = sub = the client, our audience, exp), plus iat and the maximum
        age; then the jti is spent. Raises InvalidClientError."""
        now = int(self.server.context.clock().timestamp())
        registry = jwt.JWTClaimsRegistry(
            now=now, leeway=self.leeway,
            iss={"essential": True}, sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise InvalidClientError(description=error.description) from error
        max_age = self.server.context.settings.OIDC_CLIENT_ASSERTION_MAX_AGE
        if claims["exp"] - claims["iat"] > max_age or now - claims["iat"] > max_age + self.leeway:
            raise InvalidClientError(description=f"The client assertion may live at most {max_age} seconds.")
        if claims["sub"] != claims["iss"]:
            raise InvalidClientError(description="Issuer and Subject MUST match.")
        if not isinstance(claims.get("jti"), str) or not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="Missing, invalid or reused JWT ID.")

    def validate_jti(self, claims, jti):
        return self.server.remember_jti(claims["iss"], jti, claims.get("exp"))


def active_person(person: Person | None) -> Person | None:
    """The person a code or refresh token names, while they may still sign in."""
    return person if person is not None and person.is_active else None


def remember_jti(session, hasher, clock, client_id: str, jti: str, exp) -> bool:
    """Record a client assertion id; False when it was seen before (replay)."""
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        return False
    expires_at = datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else clock() + timedelta(minutes=5)
    try:
        with session.begin_nested():
            session.add(ClientAssertionJti(client_id=client_id, jti_hash=hasher.hash("jti", jti), expires_at=expires_at))
    except IntegrityError:
        return False
    return True
