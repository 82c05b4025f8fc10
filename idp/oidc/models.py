"""Clients, codes, tokens, consents, signing keys and client-assertion ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    # The secret a rotation replaced, kept (as a keyed hash too) while the overlap the
    # operator chose runs: until previous_secret_expires_at both secrets authenticate, so
    # the relying party can switch without downtime (`idp clients rotate-secret --overlap`).
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An operator disabled the client (the console): it is unknown to every endpoint until
    # enabled again; its tokens and codes ended when it was disabled.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(1000))
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_type: Mapped[str] = mapped_column(String(16), default="pairwise")
    # Host of the redirect URIs unless set (OIDC Core §8.1): clients sharing it share subjects.
    sector_identifier: Mapped[str] = mapped_column(String(255))
    require_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # PKCE on every authorization request (security checklist OIDC-03); False only for a
    # legacy confidential client the operator opted out. Public clients always use it.
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The lowest assurance level (idp.signin.assurance acr) this client accepts: a session
    # below it is stepped up (asked for a stronger factor) before a code is issued.
    min_acr: Mapped[str | None] = mapped_column(String(255))
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), default="ES256")
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # public keys: private_key_jwt, request objects
    # Or where to fetch them (RFC 7591 §2; never both): https, fetched with a short timeout.
    jwks_uri: Mapped[str | None] = mapped_column(String(2048))
    # JAR (RFC 9101 §10.5): every authorization request of this client comes in a signed
    # request object (by value or pushed); and whether an operator lets it send unsigned
    # (alg none) ones, which are otherwise refused with request_not_supported.
    require_signed_request_object: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    allow_unsigned_request_objects: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Third-party-initiated login (OIDC Core §4, Registration §2): where a person this client
    # invited is sent after registering, so the client can start a sign-in.
    initiate_login_uri: Mapped[str | None] = mapped_column(String(2048))
    # Single sign-out (issue 14): where `idp worker` POSTs a logout token when a session this
    # client signed into ends (Back-Channel Logout 1.0 §2.2), and the page the signed-out
    # page loads in an iframe (Front-Channel Logout 1.0 §2). *_session_required: the client
    # wants `sid` (Passerelle always sends it; the flags are kept as registered).
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2048))
    backchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(String(2048))
    frontchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # PAR (RFC 9126 §6): /authorize accepts this client's requests only through a request_uri
    # from the pushed authorization request endpoint.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Dynamic registration (RFC 7592): the keyed hash of the token that lets the client read,
    # update and delete its own registration; None for clients an operator registered.
    registration_access_token_hash: Mapped[str | None] = mapped_column(String(64))
    # A policy set an operator applied (`--profile fapi2`): while set, the settings it
    # requires cannot be weakened one by one.
    profile: Mapped[str | None] = mapped_column(String(16))
    # DPoP (RFC 9449): this client's token requests must carry a proof, so every access token
    # it gets is bound to its key (§5.2, `idp clients create|update --require-dpop`); and its
    # proofs must carry a nonce from Passerelle (§8), whatever OIDC_DPOP_REQUIRE_NONCE says.
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    dpop_require_nonce: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Every token issued from this code carries the same grant_id, so reuse can revoke them all.
    grant_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(1000))
    nonce: Mapped[str | None] = mapped_column(String(512))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    acr: Mapped[str | None] = mapped_column(String(255))
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    sid: Mapped[str | None] = mapped_column(String(64))
    # Claims requested with the `claims` parameter (OIDC Core §5.5), by destination.
    requested_claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The two accessors Authlib's code grant reads (AuthorizationCodeMixin).
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class Token(Base):
    """One issuance: an opaque access token and, optionally, a refresh token.

    Refresh tokens rotate: using one marks its row rotated and issues a new row in the same
    grant; presenting a rotated one again revokes the whole grant (RFC 9700 §4.14.2).
    """

    __tablename__ = "tokens"
    __table_args__ = (Index("ix_tokens_grant_id", "grant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(String(1000))  # of this access token
    grant_scope: Mapped[str] = mapped_column(String(1000))  # consented; bounds every refresh
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acr: Mapped[str | None] = mapped_column(String(255))
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    sid: Mapped[str | None] = mapped_column(String(64))
    requested_claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # DPoP (RFC 9449 §6.1): the JWK SHA-256 thumbprint of the key this access token is bound
    # to (`cnf.jkt`); for a public client its refresh token is bound to the same key (§5).
    dpop_jkt: Mapped[str | None] = mapped_column(String(43))


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(1000))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SigningKey(Base):
    """A signing key pair. Published from created_at, signs from activates_at, and stays
    published until retire_after so every token it signed can still be verified."""

    __tablename__ = "signing_keys"
    # Workers racing to create the first (or next) key collide here, so exactly one wins.
    __table_args__ = (UniqueConstraint("alg", "generation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    generation: Mapped[int] = mapped_column(Integer)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime())
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retire_after: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClientAssertionJti(Base):
    """Seen `jti` values of private_key_jwt assertions, kept until the assertion expires."""

    __tablename__ = "client_assertion_jtis"
    __table_args__ = (UniqueConstraint("client_id", "jti_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    jti_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DPoPProofJti(Base):
    """Seen DPoP proofs (RFC 9449 §11.1), by a keyed hash of their key's thumbprint and `jti`,
    kept until their `iat` is out of the accepted window: any host refuses a replay."""

    __tablename__ = "dpop_proof_jtis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PushedAuthorizationRequest(Base):
    """An authorization request pushed by an authenticated client (RFC 9126), validated and
    kept until /authorize spends its request_uri: once, by the same client, before it expires.
    In the database so that any host can serve the /authorize that follows."""

    __tablename__ = "pushed_authorization_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    # The authorization parameters, after any request object was verified and unpacked.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # They came in a signed request object (JAR, RFC 9101): what require_signed_request_object needs.
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InitialAccessToken(Base):
    """A single-use token an operator issues so that one client may register itself
    (RFC 7591 §3, `idp clients initial-token`); kept as a keyed hash."""

    __tablename__ = "initial_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # an operator withdrew it unused
