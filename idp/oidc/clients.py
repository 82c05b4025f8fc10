"""Client registration: create, inspect, delete relying parties and rotate their secrets.

Operators reach this through `idp clients ...`; the OIDC endpoints only read Client rows.
Every rule that keeps a registration safe lives here, so a future admin API gets the same
checks for free (RFC 9700 §2.1 and §4.1, security checklist OIDC-02).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.oidc.errors import ClientNotFound, InvalidClientMetadata
from idp.oidc.models import AuthorizationCode, Client, ClientAssertionJti, Consent, Token
from idp.security.secrets import KeyedHasher
from idp.signin.assurance import ACR_VALUES_SUPPORTED

SECRET_PURPOSE = "client_secret"
PROFILES = ("fapi2",)  # policy sets an operator applies (--profile); docs/oidc.md
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SUBJECT_TYPES = ("public", "pairwise")
ID_TOKEN_ALGS = ("ES256", "RS256")
SUPPORTED_SCOPES = ("openid", "profile", "email", "phone", "address", "offline_access")
DEFAULT_SCOPE = " ".join(SUPPORTED_SCOPES)
# A person's scopes an operator grants a client by name, never by default: `organization`
# releases the person's organization membership (issue 11; docs/oidc.md, Scopes and claims).
OPERATOR_SCOPES = ("organization",)
# Scopes of Passerelle's own APIs, for client_credentials tokens only: never in the default
# scope nor in discovery's scopes_supported (an operator grants them to a client by name).
API_SCOPES = (
    "invitations",  # POST/GET /api/invitations (idp/invitations/api.py)
    "organizations",  # /api/organizations, for the organizations attached to the client (idp/orgs/api.py)
)

# Plain http is tolerated only where the traffic never leaves the machine (RFC 8252 §7.3).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_URI_LENGTH = 2048  # authorization_codes.redirect_uri holds at most this much
MAX_NAME_LENGTH = 200
CLIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
HOST_PATTERN = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")


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
        name = _check_name(name)
        if profile is not None:
            _check_profile_name(profile)
            require_pushed_authorization_requests = require_signed_request_object = True
            dpop_bound_access_tokens = True  # sender-constrained tokens (FAPI 2.0 §5.3.2.1): DPoP
        redirect_uris = [_check_uri(uri, "redirect URI") for uri in redirect_uris]
        post_logout_redirect_uris = [_check_uri(uri, "post-logout redirect URI") for uri in post_logout_redirect_uris]
        grant_types = _check_grant_types(grant_types, redirect_uris)
        _check_auth_method(auth_method, is_public, grant_types)
        _check_pkce(require_pkce, is_public)
        jwks, jwks_uri = _check_keys(jwks, jwks_uri, auth_method)
        _check_request_objects(require_signed_request_object, allow_unsigned_request_objects, jwks or jwks_uri)
        if subject_type not in SUBJECT_TYPES:
            raise InvalidClientMetadata(f"subject type must be one of {', '.join(SUBJECT_TYPES)}")
        id_token_alg = id_token_alg or self.settings.OIDC_DEFAULT_ID_TOKEN_ALG
        if id_token_alg not in ID_TOKEN_ALGS:
            raise InvalidClientMetadata(f"ID token algorithm must be one of {', '.join(ID_TOKEN_ALGS)}")
        scope = _check_scope(scope)
        initiate_login_uri = _check_initiate_login_uri(initiate_login_uri)
        backchannel_logout_uri = _check_logout_uri(backchannel_logout_uri, "backchannel_logout_uri")
        frontchannel_logout_uri = _check_logout_uri(frontchannel_logout_uri, "frontchannel_logout_uri")
        if min_acr is not None and min_acr not in ACR_VALUES_SUPPORTED:
            raise InvalidClientMetadata(f"minimum acr must be one of {', '.join(ACR_VALUES_SUPPORTED)}")
        client_id = self._check_client_id(client_id) if client_id is not None else new_client_id()
        sector = _sector_for(sector_identifier, redirect_uris, subject_type, client_id)

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
        _check_profile(client)
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
               dpop_bound_access_tokens: bool | None = None, dpop_require_nonce: bool | None = None) -> Client:
        """Change a client's scope, initiate_login_uri, logout URIs ("" removes a URI), PKCE
        requirement or logout session requirements, with the checks of create(). Workers may
        reuse a cached client record for OIDC_CLIENT_CACHE_TTL seconds. Raises
        ClientNotFound or InvalidClientMetadata."""
        client = self.get(client_id)
        if backchannel_logout_uri is not None:
            client.backchannel_logout_uri = _check_logout_uri(backchannel_logout_uri or None, "backchannel_logout_uri")
        if frontchannel_logout_uri is not None:
            client.frontchannel_logout_uri = _check_logout_uri(frontchannel_logout_uri or None, "frontchannel_logout_uri")
        if backchannel_logout_session_required is not None:
            client.backchannel_logout_session_required = backchannel_logout_session_required
        if frontchannel_logout_session_required is not None:
            client.frontchannel_logout_session_required = frontchannel_logout_session_required
        if require_pushed_authorization_requests is not None:
            client.require_pushed_authorization_requests = require_pushed_authorization_requests
        if jwks is not None or jwks_uri is not None:
            # A new JWKS replaces the jwks_uri and the other way round ("" removes the URI).
            client.jwks, client.jwks_uri = _check_keys(jwks, jwks_uri or None, client.token_endpoint_auth_method)
        if require_signed_request_object is not None:
            client.require_signed_request_object = require_signed_request_object
        if allow_unsigned_request_objects is not None:
            client.allow_unsigned_request_objects = allow_unsigned_request_objects
        _check_request_objects(client.require_signed_request_object, client.allow_unsigned_request_objects,
                               client.jwks or client.jwks_uri)
        if profile == "none":
            client.profile = None  # the settings stay; each may now be changed
        elif profile is not None:
            _check_profile_name(profile)
            client.profile = profile
            client.require_pkce = client.require_pushed_authorization_requests = True
            client.require_signed_request_object = client.dpop_bound_access_tokens = True
        if scope is not None:
            client.scope = _check_scope(scope)
        if initiate_login_uri is not None:
            client.initiate_login_uri = _check_initiate_login_uri(initiate_login_uri or None)
        if require_pkce is not None:
            _check_pkce(require_pkce, client.is_public)
            client.require_pkce = require_pkce
        if dpop_bound_access_tokens is not None:
            client.dpop_bound_access_tokens = dpop_bound_access_tokens
        if dpop_require_nonce is not None:
            client.dpop_require_nonce = dpop_require_nonce
        _check_profile(client)
        client.updated_at = self.clock()
        self.session.flush()
        return client

    def replace_registration(self, client_id: str, *, name: str, redirect_uris: Sequence[str],
                             post_logout_redirect_uris: Sequence[str]) -> Client:
        """Replace a client's name and redirect URIs (RFC 7592 update), with the checks of
        create(); the sector stays (pairwise subjects must not change). Raises
        ClientNotFound or InvalidClientMetadata."""
        client = self.get(client_id)
        name = _check_name(name)
        redirect_uris = [_check_uri(uri, "redirect URI") for uri in redirect_uris]
        post_logout_redirect_uris = [_check_uri(uri, "post-logout redirect URI") for uri in post_logout_redirect_uris]
        _check_grant_types(client.grant_types, redirect_uris)
        if client.subject_type == "pairwise" and any(urlsplit(uri).hostname != client.sector_identifier
                                                     for uri in redirect_uris):
            raise InvalidClientMetadata(f"redirect URIs must stay on {client.sector_identifier}, the client's sector")
        client.name, client.redirect_uris, client.post_logout_redirect_uris = name, redirect_uris, post_logout_redirect_uris
        client.updated_at = self.clock()
        self.session.flush()
        return client

    def rotate_secret(self, client_id: str) -> str:
        """Replace the secret; the old one stops working at once. Returns the new plain secret.

        Workers may reuse a cached client record for OIDC_CLIENT_CACHE_TTL seconds.
        Raises ClientNotFound, or InvalidClientMetadata for clients that have no secret.
        """
        client = self.get(client_id)
        if client.token_endpoint_auth_method in ("none", "private_key_jwt"):
            raise InvalidClientMetadata(f"{client.token_endpoint_auth_method} clients have no secret to rotate")
        plain_secret = secrets.token_urlsafe(32)
        client.secret_hash = self.hasher.hash(SECRET_PURPOSE, plain_secret)
        client.updated_at = self.clock()
        self.session.flush()
        return plain_secret

    def is_secret_valid(self, client: Client, plain_secret: str) -> bool:
        """Constant-time check of a presented secret against the stored keyed hash."""
        if not client.secret_hash:
            return False
        return self.hasher.matches(SECRET_PURPOSE, plain_secret, client.secret_hash)

    def _check_client_id(self, client_id: str) -> str:
        if not CLIENT_ID_PATTERN.fullmatch(client_id):
            raise InvalidClientMetadata("client_id must be 1 to 64 characters among A-Z a-z 0-9 - _")
        if self.session.scalar(select(Client.id).where(Client.client_id == client_id)) is not None:
            raise InvalidClientMetadata(f"client_id {client_id!r} is already registered")
        return client_id


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidClientMetadata(f"name is required and at most {MAX_NAME_LENGTH} characters")
    return name


def _check_uri(uri: str, label: str) -> str:
    """Return uri unchanged if it is a safe redirect target, else raise InvalidClientMetadata.

    Kept byte-exact: the authorization endpoint compares by simple string equality
    (RFC 9700 §4.1.3), so no normalisation happens here or there.
    """
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidClientMetadata(f"{label} must be a non-empty string of at most {MAX_URI_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri) or "\\" in uri:
        raise InvalidClientMetadata(f"{label} {uri!r} contains whitespace, control characters or backslashes")
    if "*" in uri:
        raise InvalidClientMetadata(f"{label} {uri!r} contains a wildcard; register every URI exactly")
    if "#" in uri:
        raise InvalidClientMetadata(f"{label} {uri!r} has a fragment (RFC 6749 §3.1.2)")
    if any(unquote(segment) in (".", "..") for segment in urlsplit(uri).path.split("/")):
        # A browser or proxy would resolve it (RFC 3986 §5.2.4) to another path than the one
        # compared byte for byte: register the resolved path.
        raise InvalidClientMetadata(f"{label} {uri!r} has a dot segment (. or ..) in its path")
    # The scheme is compared case-sensitively on purpose: "JaVaScRiPt:" and "HTTPS:" are refused.
    if not uri.startswith(("https://", "http://")):
        raise InvalidClientMetadata(f"{label} {uri!r} must be an absolute https URL")
    parts = urlsplit(uri)
    try:
        parts.port
    except ValueError:
        raise InvalidClientMetadata(f"{label} {uri!r} has an invalid port") from None
    if "@" in parts.netloc:
        raise InvalidClientMetadata(f"{label} {uri!r} must not carry user information")
    if not parts.hostname:
        raise InvalidClientMetadata(f"{label} {uri!r} has no host")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidClientMetadata(f"{label} {uri!r} must use https (http only on 127.0.0.1, localhost or [::1])")
    return uri


def _check_grant_types(grant_types: Iterable[str], redirect_uris: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(grant_types))  # order kept, duplicates dropped
    if not chosen:
        raise InvalidClientMetadata("at least one grant type is required")
    unknown = [grant for grant in chosen if grant not in GRANT_TYPES]
    if unknown:
        raise InvalidClientMetadata(f"unsupported grant type {unknown[0]!r}; choose from {', '.join(GRANT_TYPES)}")
    if "refresh_token" in chosen and "authorization_code" not in chosen:
        raise InvalidClientMetadata("refresh_token needs authorization_code: refresh tokens come from a sign-in")
    if "authorization_code" in chosen and not redirect_uris:
        raise InvalidClientMetadata("authorization_code needs at least one redirect URI")
    return chosen


def _check_auth_method(auth_method: str, is_public: bool, grant_types: Sequence[str]) -> None:
    if auth_method not in AUTH_METHODS:
        raise InvalidClientMetadata(f"token endpoint auth method must be one of {', '.join(AUTH_METHODS)}")
    if is_public != (auth_method == "none"):
        raise InvalidClientMetadata("public clients, and only they, use the auth method none")
    if is_public and "client_credentials" in grant_types:
        # A public client cannot prove who it is, so it cannot act on its own behalf (RFC 6749 §4.4).
        raise InvalidClientMetadata("public clients cannot use client_credentials")


def _check_profile_name(profile: str) -> None:
    if profile not in PROFILES:
        raise InvalidClientMetadata(f"profile must be one of {', '.join(PROFILES)} (or none on update)")


def _check_profile(client: Client) -> None:
    """FAPI 2.0 Security Profile §5.3.2 and Message Signing §5, as far as Passerelle reaches
    (docs/oidc.md, The fapi2 profile): a confidential client authenticating with
    private_key_jwt, PKCE, pushed and signed authorization requests, DPoP-bound tokens. The authorization
    response always carries `iss` (RFC 9207). Raises InvalidClientMetadata naming what breaks it."""
    if client.profile != "fapi2":
        return
    needs = [problem for broken, problem in (
        (client.token_endpoint_auth_method != "private_key_jwt", "private_key_jwt client authentication"),
        (not client.require_pkce, "PKCE (--pkce)"),
        (not client.require_pushed_authorization_requests, "pushed authorization requests (--require-par)"),
        (not client.require_signed_request_object, "signed request objects (--require-signed-request-object)"),
        (client.allow_unsigned_request_objects, "no unsigned request objects (--no-allow-unsigned-request-objects)"),
        (not client.dpop_bound_access_tokens, "DPoP-bound access tokens (--require-dpop)"),
    ) if broken]
    if needs:
        raise InvalidClientMetadata(f"the fapi2 profile needs {', '.join(needs)}; "
                                    "`idp clients update CLIENT_ID --profile none` lifts the profile first")


def _check_pkce(require_pkce: bool, is_public: bool) -> None:
    """Only a confidential client may be let off PKCE (legacy clients; checklist OIDC-03)."""
    if not require_pkce and is_public:
        raise InvalidClientMetadata("public clients always use PKCE: it cannot be turned off for them")


def _check_keys(jwks: Mapping[str, Any] | None, jwks_uri: str | None,
                auth_method: str) -> tuple[dict[str, Any] | None, str | None]:
    """The client's public keys, by value or by URI, never both (RFC 7591 §2): required for
    private_key_jwt (RFC 7523), optional otherwise (signed request objects, RFC 9101).
    Returns (jwks, jwks_uri)."""
    if jwks and jwks_uri:
        raise InvalidClientMetadata("give the client's keys as a JWKS or a jwks_uri, not both")
    if jwks_uri:
        return None, _check_uri(jwks_uri, "jwks_uri")
    if not jwks and auth_method != "private_key_jwt":
        return None, None
    return _check_jwks(jwks), None


def _check_request_objects(require_signed: bool | None, allow_unsigned: bool | None, keys: Any) -> None:
    """A client that must sign its request objects needs keys to verify them, and cannot
    also be allowed unsigned ones."""
    if require_signed and allow_unsigned:
        raise InvalidClientMetadata("a client that must sign its request objects cannot be allowed unsigned ones")
    if require_signed and not keys:
        raise InvalidClientMetadata("signed request objects need the client's public keys (a JWKS or a jwks_uri)")


def _check_jwks(jwks: Mapping[str, Any] | None) -> dict[str, Any]:
    """A JWKS of public keys (RFC 7517 §5)."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise InvalidClientMetadata('private_key_jwt needs a JWKS or a jwks_uri; a JWKS is {"keys": [...]} with at least one key')
    for key in keys:
        if not isinstance(key, Mapping):
            raise InvalidClientMetadata("every JWKS entry must be a JSON object")
        if "d" in key or key.get("kty") == "oct":
            raise InvalidClientMetadata("the JWKS must hold public keys only (found a private or symmetric key)")
    try:
        KeySet.import_key_set({"keys": [dict(key) for key in keys]})
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidClientMetadata(f"the JWKS could not be parsed: {error}") from None
    return {"keys": [dict(key) for key in keys]}


def _check_scope(scope: str) -> str:
    requested = scope.split()
    if "openid" not in requested:
        raise InvalidClientMetadata("scope must include openid")
    unknown = [item for item in requested if item not in SUPPORTED_SCOPES + OPERATOR_SCOPES + API_SCOPES]
    if unknown:
        choices = " ".join(SUPPORTED_SCOPES + OPERATOR_SCOPES + API_SCOPES)
        raise InvalidClientMetadata(f"unsupported scope {unknown[0]!r}; choose from {choices}")
    return " ".join(dict.fromkeys(requested))


def _check_initiate_login_uri(uri: str | None) -> str | None:
    """Third-party-initiated login URI (OIDC Core §4, Registration §2): https, like a
    redirect URI (http only on loopback); Passerelle sends invited people there."""
    if uri is None:
        return None
    return _check_uri(uri, "initiate_login_uri")


def _check_logout_uri(uri: str | None, label: str) -> str | None:
    """Back-Channel Logout §2.2 and Front-Channel Logout §2: an absolute URL that may carry a
    query but no fragment; checked like a redirect URI (https, http only on loopback)."""
    if uri is None:
        return None
    return _check_uri(uri, label)


def _sector_for(explicit: str | None, redirect_uris: Sequence[str], subject_type: str, client_id: str) -> str:
    """The sector that pairwise subjects are derived from (OIDC Core §8.1).

    Clients sharing a sector see the same subject for a person, so it is never guessed:
    redirect URIs on several hosts need an explicit sector.
    """
    if explicit is not None:
        sector = explicit.strip().lower()
        if not HOST_PATTERN.fullmatch(sector):
            raise InvalidClientMetadata("sector identifier must be a host name such as portal.example.ca")
        return sector
    hosts = list(dict.fromkeys(urlsplit(uri).hostname for uri in redirect_uris))
    if len(hosts) > 1 and subject_type == "pairwise":
        raise InvalidClientMetadata(
            f"redirect URIs span several hosts ({', '.join(hosts)}): give a sector identifier"
        )
    # Without redirect URIs (client_credentials only) no person is involved: the client is its own sector.
    return hosts[0] if hosts else client_id
