"""Client registration: create, inspect, delete relying parties and rotate their secrets.

Operators reach this through `idp clients ...` (and dynamic registration, the console);
the OIDC endpoints only read Client rows. The rules a registration must keep are in
client_rules.py; this service applies them and owns the rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.oidc.client_rules import (
    CLIENT_ID_PATTERN,
    DEFAULT_SCOPE,
    FAPI2_ID_TOKEN_ALG,
    ID_TOKEN_ALGS,
    SUBJECT_TYPES,
    check_auth_method,
    check_grant_types,
    check_initiate_login_uri,
    check_keys,
    check_logout_uri,
    check_name,
    check_pkce,
    check_profile,
    check_profile_name,
    check_request_objects,
    check_scope,
    check_uri,
    sector_for,
)
from idp.oidc.client_secrets import MAX_SECRET_OVERLAP, SECRET_PURPOSE, secret_matches
from idp.oidc.errors import ClientNotFound, ClientRule, InvalidClientMetadata
from idp.oidc.models import (
    AuthorizationCode,
    Client,
    ClientAssertionJti,
    Consent,
    PushedAuthorizationRequest,
    Token,
)
from idp.security.secrets import KeyedHasher
from idp.signin.assurance import ACR_VALUES_SUPPORTED


def new_client_id() -> str:
    """128 random bits, starting with a letter: an id that begins with "-" would read as an
    option on an operator's command line (`idp clients show -x...`)."""
    return "c" + secrets.token_urlsafe(16)


class ClientService:
    """Registers clients. Never commits: the caller (CLI, admin view) owns the transaction."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher

    def create(
        self,
        *,
        name: str,
        redirect_uris: Sequence[str],
        post_logout_redirect_uris: Sequence[str] = (),
        grant_types: Sequence[str] = ("authorization_code", "refresh_token"),
        auth_method: str = "client_secret_basic",
        is_public: bool = False,
        subject_type: str = "pairwise",
        require_consent: bool = False,
        id_token_alg: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        scope: str = DEFAULT_SCOPE,
        sector_identifier: str | None = None,
        client_id: str | None = None,
        initiate_login_uri: str | None = None,
        min_acr: str | None = None,
        require_pkce: bool = True,
        backchannel_logout_uri: str | None = None,
        backchannel_logout_session_required: bool = False,
        frontchannel_logout_uri: str | None = None,
        frontchannel_logout_session_required: bool = False,
        require_pushed_authorization_requests: bool = False,
        jwks_uri: str | None = None,
        require_signed_request_object: bool = False,
        allow_unsigned_request_objects: bool = False,
        profile: str | None = None,
        dpop_bound_access_tokens: bool = False,
        dpop_require_nonce: bool = False,
    ) -> tuple[Client, str | None]:
        """Register a client. Returns (client, plain_secret); the secret is shown only now.

        plain_secret is None for public and private_key_jwt clients, which have none.
        Raises InvalidClientMetadata naming the first rule the registration breaks.
        """
        name = check_name(name)
        if profile is not None:
            check_profile_name(profile)
            require_pushed_authorization_requests = require_signed_request_object = True
            dpop_bound_access_tokens = True  # sender-constrained tokens (FAPI 2.0 §5.3.2.1): DPoP
            id_token_alg = id_token_alg or FAPI2_ID_TOKEN_ALG
        redirect_uris = [check_uri(uri, "redirect URI") for uri in redirect_uris]
        post_logout_redirect_uris = [check_uri(uri, "post-logout redirect URI") for uri in post_logout_redirect_uris]
        grant_types = check_grant_types(grant_types, redirect_uris)
        check_auth_method(auth_method, is_public, grant_types)
        check_pkce(require_pkce, is_public)
        jwks, jwks_uri = check_keys(jwks, jwks_uri, auth_method)
        check_request_objects(require_signed_request_object, allow_unsigned_request_objects, jwks or jwks_uri)
        if subject_type not in SUBJECT_TYPES:
            raise InvalidClientMetadata(f"subject type must be one of {', '.join(SUBJECT_TYPES)}",
                                        rule=ClientRule.SUBJECT_TYPE)
        id_token_alg = id_token_alg or self.settings.OIDC_DEFAULT_ID_TOKEN_ALG
        if id_token_alg not in ID_TOKEN_ALGS:
            raise InvalidClientMetadata(f"ID token algorithm must be one of {', '.join(ID_TOKEN_ALGS)}",
                                        rule=ClientRule.ID_TOKEN_ALG)
        scope = check_scope(scope)
        initiate_login_uri = check_initiate_login_uri(initiate_login_uri)
        backchannel_logout_uri = check_logout_uri(backchannel_logout_uri, "backchannel_logout_uri")
        frontchannel_logout_uri = check_logout_uri(frontchannel_logout_uri, "frontchannel_logout_uri")
        if min_acr is not None and min_acr not in ACR_VALUES_SUPPORTED:
            raise InvalidClientMetadata(f"minimum acr must be one of {', '.join(ACR_VALUES_SUPPORTED)}",
                                        rule=ClientRule.MIN_ACR)
        client_id = self._check_client_id(client_id) if client_id is not None else new_client_id()
        sector = sector_for(sector_identifier, redirect_uris, subject_type, client_id)

        plain_secret = None if auth_method in ("none", "private_key_jwt") else secrets.token_urlsafe(32)
        now = self.clock()
        client = Client(
            client_id=client_id,
            secret_hash=self.hasher.hash(SECRET_PURPOSE, plain_secret) if plain_secret else None,
            name=name,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            grant_types=grant_types,
            scope=scope,
            token_endpoint_auth_method=auth_method,
            is_public=is_public,
            subject_type=subject_type,
            sector_identifier=sector,
            require_consent=require_consent,
            id_token_signed_response_alg=id_token_alg,
            jwks=jwks,
            initiate_login_uri=initiate_login_uri,
            min_acr=min_acr,
            require_pkce=require_pkce,
            backchannel_logout_uri=backchannel_logout_uri,
            backchannel_logout_session_required=bool(backchannel_logout_session_required),
            frontchannel_logout_uri=frontchannel_logout_uri,
            frontchannel_logout_session_required=bool(frontchannel_logout_session_required),
            require_pushed_authorization_requests=bool(require_pushed_authorization_requests),
            jwks_uri=jwks_uri,
            require_signed_request_object=bool(require_signed_request_object),
            allow_unsigned_request_objects=bool(allow_unsigned_request_objects),
            profile=profile,
            dpop_bound_access_tokens=bool(dpop_bound_access_tokens),
            dpop_require_nonce=bool(dpop_require_nonce),
            created_at=now,
            updated_at=now,
        )
        check_profile(client)
        self.session.add(client)
        self.session.flush()
        return client, plain_secret

    def list(self) -> list[Client]:
        """Every client, oldest first."""
        return list(self.session.scalars(select(Client).order_by(Client.created_at, Client.id)))

    def get(self, client_id: str) -> Client:
        """Raises ClientNotFound."""
        client = self.session.scalar(select(Client).where(Client.client_id == client_id))
        if client is None:
            raise ClientNotFound(client_id)
        return client

    def delete(self, client_id: str) -> None:
        """Remove a client and everything issued to it, so none of its tokens stays usable."""
        client = self.get(client_id)
        for model in (Token, AuthorizationCode, Consent, ClientAssertionJti):
            self.session.execute(delete(model).where(model.client_id == client_id))
        self.session.delete(client)
        self.session.flush()

    def update(self, client_id: str, *, scope: str | None = None, initiate_login_uri: str | None = None,
               require_pkce: bool | None = None, backchannel_logout_uri: str | None = None,
               backchannel_logout_session_required: bool | None = None, frontchannel_logout_uri: str | None = None,
               frontchannel_logout_session_required: bool | None = None,
               require_pushed_authorization_requests: bool | None = None,
               jwks: Mapping[str, Any] | None = None, jwks_uri: str | None = None,
               require_signed_request_object: bool | None = None,
               allow_unsigned_request_objects: bool | None = None, profile: str | None = None,
               dpop_bound_access_tokens: bool | None = None, dpop_require_nonce: bool | None = None,
               require_consent: bool | None = None, min_acr: str | None = None) -> Client:
        """Change a client's scope, initiate_login_uri, logout URIs ("" removes a URI), PKCE
        requirement, logout session requirements, consent or minimum acr ("" removes it),
        with the checks of create(). Workers may reuse a cached client record for
        OIDC_CLIENT_CACHE_TTL seconds. Raises ClientNotFound or InvalidClientMetadata."""
        client = self.get(client_id)
        if min_acr is not None:
            if min_acr and min_acr not in ACR_VALUES_SUPPORTED:
                raise InvalidClientMetadata(f"minimum acr must be one of {', '.join(ACR_VALUES_SUPPORTED)}",
                                            rule=ClientRule.MIN_ACR)
            client.min_acr = min_acr or None
        if require_consent is not None:
            client.require_consent = require_consent
        if backchannel_logout_uri is not None:
            client.backchannel_logout_uri = check_logout_uri(backchannel_logout_uri or None, "backchannel_logout_uri")
        if frontchannel_logout_uri is not None:
            client.frontchannel_logout_uri = check_logout_uri(frontchannel_logout_uri or None, "frontchannel_logout_uri")
        if backchannel_logout_session_required is not None:
            client.backchannel_logout_session_required = backchannel_logout_session_required
        if frontchannel_logout_session_required is not None:
            client.frontchannel_logout_session_required = frontchannel_logout_session_required
        if require_pushed_authorization_requests is not None:
            client.require_pushed_authorization_requests = require_pushed_authorization_requests
        if jwks is not None or jwks_uri is not None:
            # A new JWKS replaces the jwks_uri and the other way round ("" removes the URI).
            client.jwks, client.jwks_uri = check_keys(jwks, jwks_uri or None, client.token_endpoint_auth_method)
        if require_signed_request_object is not None:
            client.require_signed_request_object = require_signed_request_object
        if allow_unsigned_request_objects is not None:
            client.allow_unsigned_request_objects = allow_unsigned_request_objects
        check_request_objects(client.require_signed_request_object, client.allow_unsigned_request_objects,
                               client.jwks or client.jwks_uri)
        if profile == "none":
            client.profile = None  # the settings stay; each may now be changed
        elif profile is not None:
            check_profile_name(profile)
            client.profile = profile
            client.require_pkce = client.require_pushed_authorization_requests = True
            client.require_signed_request_object = client.dpop_bound_access_tokens = True
            client.id_token_signed_response_alg = FAPI2_ID_TOKEN_ALG
        if scope is not None:
            client.scope = check_scope(scope)
        if initiate_login_uri is not None:
            client.initiate_login_uri = check_initiate_login_uri(initiate_login_uri or None)
        if require_pkce is not None:
            check_pkce(require_pkce, client.is_public)
            client.require_pkce = require_pkce
        if dpop_bound_access_tokens is not None:
            client.dpop_bound_access_tokens = dpop_bound_access_tokens
        if dpop_require_nonce is not None:
            client.dpop_require_nonce = dpop_require_nonce
        check_profile(client)
        client.updated_at = self.clock()
        self.session.flush()
        return client

    def replace_registration(self, client_id: str, *, name: str, redirect_uris: Sequence[str],
                             post_logout_redirect_uris: Sequence[str]) -> Client:
        """Replace a client's name and redirect URIs (RFC 7592 update), with the checks of
        create(); the sector stays (pairwise subjects must not change). Raises
        ClientNotFound or InvalidClientMetadata."""
        client = self.get(client_id)
        name = check_name(name)
        redirect_uris = [check_uri(uri, "redirect URI") for uri in redirect_uris]
        post_logout_redirect_uris = [check_uri(uri, "post-logout redirect URI") for uri in post_logout_redirect_uris]
        check_grant_types(client.grant_types, redirect_uris)
        if client.subject_type == "pairwise" and any(urlsplit(uri).hostname != client.sector_identifier
                                                     for uri in redirect_uris):
            raise InvalidClientMetadata(f"redirect URIs must stay on {client.sector_identifier}, the client's sector",
                                        rule=ClientRule.SECTOR_LOCKED)
        client.name, client.redirect_uris, client.post_logout_redirect_uris = name, redirect_uris, post_logout_redirect_uris
        client.updated_at = self.clock()
        self.session.flush()
        return client

    def rotate_secret(self, client_id: str, overlap: timedelta = timedelta(0)) -> str:
        """Replace the secret. Returns the new plain secret (shown once).

        With an overlap, the old secret keeps authenticating for that long beside the new
        one, so the relying party can switch without an outage; without, it stops at once.
        Only two secrets live at a time: rotating again during an overlap drops the oldest.
        Workers may reuse a cached client record for OIDC_CLIENT_CACHE_TTL seconds.
        Raises ClientNotFound, or InvalidClientMetadata for clients that have no secret or
        an overlap outside 0 to MAX_SECRET_OVERLAP.
        """
        client = self.get(client_id)
        if client.token_endpoint_auth_method in ("none", "private_key_jwt"):
            raise InvalidClientMetadata(f"{client.token_endpoint_auth_method} clients have no secret to rotate",
                                        rule=ClientRule.NO_SECRET)
        if not timedelta(0) <= overlap <= MAX_SECRET_OVERLAP:
            raise InvalidClientMetadata(f"the overlap lasts between 0 seconds and {MAX_SECRET_OVERLAP.days} days",
                                        rule=ClientRule.SECRET_OVERLAP)
        now = self.clock()
        plain_secret = secrets.token_urlsafe(32)
        if overlap and client.secret_hash:
            client.previous_secret_hash, client.previous_secret_expires_at = client.secret_hash, now + overlap
        else:
            client.previous_secret_hash = client.previous_secret_expires_at = None
        client.secret_hash = self.hasher.hash(SECRET_PURPOSE, plain_secret)
        client.updated_at = now
        self.session.flush()
        return plain_secret

    def is_secret_valid(self, client: Client, plain_secret: str) -> bool:
        """Constant-time check of a presented secret against the stored keyed hashes: the
        current secret, or the previous one while a rotation's overlap runs."""
        return secret_matches(self.hasher, plain_secret, client.secret_hash, client.previous_secret_hash,
                              client.previous_secret_expires_at, self.clock())

    def disable(self, client_id: str) -> bool:
        """The client becomes unknown to every endpoint (sign-in, token, introspection, ...),
        and everything issued to it ends: tokens revoked, codes and pushed requests not yet
        used expire. Enabling it later brings none of them back. False when it was already
        disabled (one effect when two operators race: a conditional UPDATE). Raises
        ClientNotFound."""
        client = self.get(client_id)
        now = self.clock()
        changed = self.session.execute(
            update(Client).where(Client.id == client.id, Client.disabled_at.is_(None))
            .values(disabled_at=now, updated_at=now).execution_options(synchronize_session=False)
        ).rowcount
        self.session.expire(client, ["disabled_at", "updated_at"])
        if not changed:
            return False
        self.session.execute(
            update(Token).where(Token.client_id == client_id, Token.revoked_at.is_(None))
            .values(revoked_at=now).execution_options(synchronize_session=False))
        for model, used in ((AuthorizationCode, AuthorizationCode.consumed_at),
                            (PushedAuthorizationRequest, PushedAuthorizationRequest.used_at)):
            self.session.execute(
                update(model).where(model.client_id == client_id, used.is_(None), model.expires_at > now)
                .values(expires_at=now).execution_options(synchronize_session=False))
        self.session.flush()
        return True

    def enable(self, client_id: str) -> bool:
        """A disabled client works again (with new sign-ins only). False when it was not
        disabled. Raises ClientNotFound."""
        client = self.get(client_id)
        changed = self.session.execute(
            update(Client).where(Client.id == client.id, Client.disabled_at.is_not(None))
            .values(disabled_at=None, updated_at=self.clock()).execution_options(synchronize_session=False)
        ).rowcount
        self.session.expire(client, ["disabled_at", "updated_at"])
        self.session.flush()
        return bool(changed)

    def _check_client_id(self, client_id: str) -> str:
        if not CLIENT_ID_PATTERN.fullmatch(client_id):
            raise InvalidClientMetadata("client_id must be 1 to 64 characters among A-Z a-z 0-9 - _",
                                        rule=ClientRule.CLIENT_ID_INVALID)
        if self.session.scalar(select(Client.id).where(Client.client_id == client_id)) is not None:
            raise InvalidClientMetadata(f"client_id {client_id!r} is already registered",
                                        rule=ClientRule.CLIENT_ID_TAKEN)
        return client_id
