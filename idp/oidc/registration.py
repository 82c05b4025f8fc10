"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).

Off unless OIDC_DYNAMIC_REGISTRATION is on. Registering needs a single-use initial access
token an operator issued (`idp clients initial-token`); the client gets a registration
access token to read, update and delete its registration. Both are kept as keyed hashes.
The metadata is parsed by Authlib's claim classes (RFC 7591, OIDC Registration 1.0) and
then goes through ClientService, so a registration gets exactly the checks of
`idp clients create` (exact redirect URIs, https but on loopback, no fragments, ...).
No Flask here: idp.oidc.registration_endpoint is the HTTP glue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc7591 import ClientMetadataClaims
from authlib.oidc.registration import ClientMetadataClaims as OIDCClientMetadataClaims
from joserfc.errors import JoseError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.oidc.client_rules import SUPPORTED_SCOPES, check_jwks
from idp.oidc.clients import ClientService
from idp.oidc.errors import ClientRule, InvalidClientMetadata, SoftwareStatementNotAccepted
from idp.oidc.models import Client, InitialAccessToken
from idp.security.secrets import KeyedHasher, equal, new_token

INITIAL_TOKEN_PURPOSE = "initial_access_token"
REGISTRATION_TOKEN_PURPOSE = "registration_access_token"
MAX_INITIAL_TOKEN_TTL = timedelta(days=90)
# Metadata Passerelle keeps; everything else a client sends is ignored (RFC 7591 §2).
LOGOUT_FIELDS = ("backchannel_logout_uri", "backchannel_logout_session_required",
                 "frontchannel_logout_uri", "frontchannel_logout_session_required")
# Set at registration only: a PUT that changes them is refused (RFC 7592 §2.2 lets us).
FIXED_FIELDS = ("token_endpoint_auth_method", "grant_types", "subject_type", "id_token_signed_response_alg")


class RegistrationService:
    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.clients = ClientService(session, settings, clock, hasher)

    # Initial access tokens ------------------------------------------------------------------

    def issue_initial_token(self, expires_in: timedelta) -> tuple[str, InitialAccessToken]:
        """A single-use token that lets one client register. Returns (plain token, record)."""
        if not timedelta(0) < expires_in <= MAX_INITIAL_TOKEN_TTL:
            raise InvalidClientMetadata(f"an initial access token lives between 1 second and {MAX_INITIAL_TOKEN_TTL.days} days",
                                        rule=ClientRule.INITIAL_TOKEN_LIFETIME)
        plain = new_token(32)
        now = self.clock()
        record = InitialAccessToken(token_hash=self.hasher.hash(INITIAL_TOKEN_PURPOSE, plain), created_at=now,
                                    expires_at=now + expires_in)
        self.session.add(record)
        self.session.flush()
        return plain, record

    def spend_initial_token(self, plain: str) -> bool:
        """Spend a token by one conditional UPDATE: True for the one request that wins."""
        if not plain or len(plain) > 200:
            return False
        now = self.clock()
        spent = self.session.execute(
            update(InitialAccessToken)
            .where(InitialAccessToken.token_hash == self.hasher.hash(INITIAL_TOKEN_PURPOSE, plain),
                   InitialAccessToken.used_at.is_(None), InitialAccessToken.revoked_at.is_(None),
                   InitialAccessToken.expires_at > now)
            .values(used_at=now)
        )
        return spent.rowcount == 1

    def unused_initial_tokens(self) -> list[InitialAccessToken]:
        """Tokens that may still register a client (neither used, revoked nor expired),
        soonest to expire first. Their values are not kept: only the records."""
        return list(self.session.scalars(
            select(InitialAccessToken)
            .where(InitialAccessToken.used_at.is_(None), InitialAccessToken.revoked_at.is_(None),
                   InitialAccessToken.expires_at > self.clock())
            .order_by(InitialAccessToken.expires_at, InitialAccessToken.id)))

    def revoke_initial_token(self, token_id: int) -> bool:
        """Withdraw an unused token (one conditional UPDATE); False when it was already used,
        revoked or expired, or does not exist."""
        now = self.clock()
        revoked = self.session.execute(
            update(InitialAccessToken)
            .where(InitialAccessToken.id == token_id, InitialAccessToken.used_at.is_(None),
                   InitialAccessToken.revoked_at.is_(None), InitialAccessToken.expires_at > now)
            .values(revoked_at=now)
        )
        return revoked.rowcount == 1

    # Registration ---------------------------------------------------------------------------

    def register(self, metadata: Mapping[str, Any], server_metadata: Mapping[str, Any]) -> tuple[Client, str | None, str]:
        """Register a client. Returns (client, plain secret or None, plain registration access
        token). Raises InvalidClientMetadata or SoftwareStatementNotAccepted."""
        fields = parse_metadata(metadata, server_metadata)
        auth_method = fields.get("token_endpoint_auth_method", "client_secret_basic")
        client, plain_secret = self.clients.create(
            name=fields.get("client_name") or "",
            redirect_uris=fields.get("redirect_uris", []),
            post_logout_redirect_uris=fields.get("post_logout_redirect_uris", []),
            grant_types=fields.get("grant_types", ["authorization_code"]),
            auth_method=auth_method,
            is_public=auth_method == "none",
            # A client nobody vetted: pairwise subjects and the person's consent, always.
            subject_type="pairwise",
            require_consent=True,
            id_token_alg=fields.get("id_token_signed_response_alg"),
            jwks=fields.get("jwks"),
            jwks_uri=fields.get("jwks_uri"),
            scope=fields.get("scope") or " ".join(SUPPORTED_SCOPES),
            initiate_login_uri=fields.get("initiate_login_uri"),
            require_pushed_authorization_requests=bool(fields.get("require_pushed_authorization_requests")),
            require_signed_request_object=bool(fields.get("require_signed_request_object")),
            dpop_bound_access_tokens=bool(fields.get("dpop_bound_access_tokens")),
            **{name: fields[name] for name in LOGOUT_FIELDS if name in fields},
        )
        plain_token = new_token(32)
        client.registration_access_token_hash = self.hasher.hash(REGISTRATION_TOKEN_PURPOSE, plain_token)
        self.session.flush()
        return client, plain_secret, plain_token

    def find(self, client_id: str, plain_token: str) -> Client | None:
        """The dynamically registered client this registration access token belongs to."""
        if not client_id or len(client_id) > 64 or not plain_token or len(plain_token) > 200:
            return None
        client = self.session.scalar(select(Client).where(Client.client_id == client_id))
        if client is None or not client.registration_access_token_hash or client.disabled_at is not None:
            return None
        presented = self.hasher.hash(REGISTRATION_TOKEN_PURPOSE, plain_token)
        return client if equal(presented, client.registration_access_token_hash) else None

    def replace(self, client: Client, metadata: Mapping[str, Any], server_metadata: Mapping[str, Any]) -> Client:
        """RFC 7592 §2.2: the metadata sent replaces the registration; fields fixed at
        registration may be repeated but not changed. Raises InvalidClientMetadata."""
        if metadata.get("client_id") != client.client_id:
            raise InvalidClientMetadata("client_id must be sent and name this client",
                                        rule=ClientRule.CLIENT_ID_MISMATCH)
        for name in ("registration_access_token", "registration_client_uri", "client_id_issued_at",
                     "client_secret_expires_at"):
            if name in metadata:
                raise InvalidClientMetadata(f"{name} must not be sent in an update", rule=ClientRule.UPDATE_FIELD)
        body = {key: value for key, value in metadata.items() if key not in ("client_id", "client_secret")}
        fields = parse_metadata(body, server_metadata)
        current = describe(client)
        for name in FIXED_FIELDS:
            if name in fields and fields[name] != current.get(name):
                raise InvalidClientMetadata(f"{name} cannot be changed; register a new client",
                                            rule=ClientRule.UPDATE_FIELD)
        self.clients.replace_registration(
            client.client_id,
            name=fields.get("client_name") or "",
            redirect_uris=fields.get("redirect_uris", []),
            post_logout_redirect_uris=fields.get("post_logout_redirect_uris", []),
        )
        self.clients.update(
            client.client_id,
            scope=fields.get("scope") or " ".join(SUPPORTED_SCOPES),
            initiate_login_uri=fields.get("initiate_login_uri") or "",
            jwks=fields.get("jwks"), jwks_uri=fields.get("jwks_uri") or ("" if not fields.get("jwks") else None),
            require_pushed_authorization_requests=bool(fields.get("require_pushed_authorization_requests")),
            require_signed_request_object=bool(fields.get("require_signed_request_object")),
            dpop_bound_access_tokens=bool(fields.get("dpop_bound_access_tokens")),
            backchannel_logout_uri=fields.get("backchannel_logout_uri") or "",
            frontchannel_logout_uri=fields.get("frontchannel_logout_uri") or "",
            backchannel_logout_session_required=bool(fields.get("backchannel_logout_session_required")),
            frontchannel_logout_session_required=bool(fields.get("frontchannel_logout_session_required")),
        )
        return client

    def delete(self, client: Client) -> None:
        self.clients.delete(client.client_id)


def parse_metadata(metadata: Mapping[str, Any], server_metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The client metadata Passerelle keeps, checked by Authlib's claim classes (RFC 7591 §2,
    OIDC Registration §2). Raises InvalidClientMetadata or SoftwareStatementNotAccepted."""
    if not isinstance(metadata, Mapping):
        raise InvalidClientMetadata("the body must be a JSON object of client metadata", rule=ClientRule.MALFORMED)
    if "software_statement" in metadata:
        raise SoftwareStatementNotAccepted("software statements are not accepted: send the metadata itself")
    if "sector_identifier_uri" in metadata:
        # It would have to be fetched and checked (OIDC Registration §5); Passerelle does not.
        raise InvalidClientMetadata("sector_identifier_uri is not supported", rule=ClientRule.DYNAMIC_UNSUPPORTED)
    if metadata.get("subject_type", "pairwise") != "pairwise":
        raise InvalidClientMetadata("dynamically registered clients get pairwise subjects only",
                                    rule=ClientRule.DYNAMIC_UNSUPPORTED)
    if any(value != "code" for value in _as_list(metadata.get("response_types", ["code"]))):
        raise InvalidClientMetadata("response_types may only be [\"code\"]", rule=ClientRule.DYNAMIC_UNSUPPORTED)
    if metadata.get("jwks") is not None:
        check_jwks(metadata["jwks"])  # public keys only, before anything imports them
    fields: dict[str, Any] = {}
    for claims_class in (ClientMetadataClaims, OIDCClientMetadataClaims):
        claims = claims_class(dict(metadata), {}, {}, dict(server_metadata))
        try:
            claims.validate()
        except (JoseError, ValueError, TypeError, KeyError) as error:
            name = getattr(error, "claim", None) or ""
            if name in ("redirect_uris", "post_logout_redirect_uris"):
                rule = ClientRule.REDIRECT_URI if name == "redirect_uris" else ClientRule.POST_LOGOUT_REDIRECT_URI
                raise InvalidClientMetadata(f"a redirect URI in {name} is not a valid absolute URL",
                                            rule=rule) from None
            raise InvalidClientMetadata(f"invalid {name or 'client metadata'}", rule=ClientRule.MALFORMED) from None
        fields.update(claims.get_registered_claims())
    for name in ("post_logout_redirect_uris", "require_pushed_authorization_requests", "require_signed_request_object",
                 *LOGOUT_FIELDS):
        if name in metadata:
            fields[name] = metadata[name]
    if "dpop_bound_access_tokens" in metadata:  # RFC 9449 §5.2
        if not isinstance(metadata["dpop_bound_access_tokens"], bool):
            raise InvalidClientMetadata("dpop_bound_access_tokens must be true or false", rule=ClientRule.MALFORMED)
        fields["dpop_bound_access_tokens"] = metadata["dpop_bound_access_tokens"]
    for name in ("redirect_uris", "post_logout_redirect_uris", "grant_types"):
        if name in fields and not (isinstance(fields[name], list) and all(isinstance(v, str) for v in fields[name])):
            raise InvalidClientMetadata(f"{name} must be an array of strings", rule=ClientRule.MALFORMED)
    for name in ("client_name", "scope", "jwks_uri", "initiate_login_uri", "backchannel_logout_uri",
                 "frontchannel_logout_uri", "token_endpoint_auth_method", "id_token_signed_response_alg"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            raise InvalidClientMetadata(f"{name} must be a string", rule=ClientRule.MALFORMED)
    scope = (fields.get("scope") or "").split()
    if any(value not in SUPPORTED_SCOPES for value in scope):
        # Operator scopes (organization) and API scopes are granted by an operator, by name.
        raise InvalidClientMetadata(f"scope may only use {' '.join(SUPPORTED_SCOPES)}",
                                    rule=ClientRule.SCOPE_UNSUPPORTED)
    if scope and "openid" not in scope:
        fields["scope"] = " ".join(["openid", *scope])
    if "client_credentials" in (fields.get("grant_types") or []):
        raise InvalidClientMetadata("client_credentials clients are registered by an operator",
                                    rule=ClientRule.DYNAMIC_UNSUPPORTED)
    return fields


def describe(client: Client) -> dict[str, Any]:
    """The registration as RFC 7591 §3.2.1 client metadata (never a secret or its hash)."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": ["code"] if "authorization_code" in client.grant_types else [],
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": client.scope,
        "subject_type": client.subject_type,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "require_signed_request_object": client.require_signed_request_object,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "frontchannel_logout_session_required": client.frontchannel_logout_session_required,
    }
    for name in ("jwks", "jwks_uri", "initiate_login_uri", "backchannel_logout_uri", "frontchannel_logout_uri"):
        if getattr(client, name):
            body[name] = getattr(client, name)
    if client.secret_hash:
        body["client_secret_expires_at"] = 0
    return body


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]
