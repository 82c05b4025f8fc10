"""What a client registration may hold: the values Passerelle supports and the check of
each piece of metadata (redirect URIs, grant types, authentication, keys, scopes, logout
URIs, policy profiles). Every way a client is made or changed (the CLI, dynamic
registration, a future console) goes through these (RFC 9700 §2.1 and §4.1, checklist OIDC-02).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.oidc.errors import ClientRule, InvalidClientMetadata
from idp.oidc.models import Client

PROFILES = ("fapi2",)  # policy sets an operator applies (--profile); docs/oidc.md
# What a fapi2 client may sign with (FAPI 2.0 Security Profile §5.4.1), and its ID tokens'
# algorithm: ES256, the one of the two Passerelle signs ID tokens with.
FAPI2_SIGNING_ALGS = ("PS256", "ES256")
FAPI2_ID_TOKEN_ALG = "ES256"
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

# The rule a URI breaks, by the label check_uri names it with.
URI_RULES = {
    "redirect URI": ClientRule.REDIRECT_URI, "post-logout redirect URI": ClientRule.POST_LOGOUT_REDIRECT_URI,
    "jwks_uri": ClientRule.JWKS_URI, "initiate_login_uri": ClientRule.INITIATE_LOGIN_URI,
    "backchannel_logout_uri": ClientRule.BACKCHANNEL_LOGOUT_URI,
    "frontchannel_logout_uri": ClientRule.FRONTCHANNEL_LOGOUT_URI,
}


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidClientMetadata(f"name is required and at most {MAX_NAME_LENGTH} characters", rule=ClientRule.NAME)
    return name


def check_uri(uri: str, label: str) -> str:
    """Return uri unchanged if it is a safe redirect target, else raise InvalidClientMetadata.

    Kept byte-exact: the authorization endpoint compares by simple string equality
    (RFC 9700 §4.1.3), so no normalisation happens here or there.
    """
    rule = URI_RULES[label]
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidClientMetadata(f"{label} must be a non-empty string of at most {MAX_URI_LENGTH} characters",
                                    rule=rule)
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri) or "\\" in uri:
        raise InvalidClientMetadata(f"{label} {uri!r} contains whitespace, control characters or backslashes",
                                    rule=rule)
    if "*" in uri:
        raise InvalidClientMetadata(f"{label} {uri!r} contains a wildcard; register every URI exactly", rule=rule)
    if "#" in uri:
        raise InvalidClientMetadata(f"{label} {uri!r} has a fragment (RFC 6749 §3.1.2)", rule=rule)
    if any(unquote(segment) in (".", "..") for segment in urlsplit(uri).path.split("/")):
        # A browser or proxy would resolve it (RFC 3986 §5.2.4) to another path than the one
        # compared byte for byte: register the resolved path.
        raise InvalidClientMetadata(f"{label} {uri!r} has a dot segment (. or ..) in its path", rule=rule)
    # The scheme is compared case-sensitively on purpose: "JaVaScRiPt:" and "HTTPS:" are refused.
    if not uri.startswith(("https://", "http://")):
        raise InvalidClientMetadata(f"{label} {uri!r} must be an absolute https URL", rule=rule)
    parts = urlsplit(uri)
    try:
        parts.port
    except ValueError:
        raise InvalidClientMetadata(f"{label} {uri!r} has an invalid port", rule=rule) from None
    if "@" in parts.netloc:
        raise InvalidClientMetadata(f"{label} {uri!r} must not carry user information", rule=rule)
    if not parts.hostname:
        raise InvalidClientMetadata(f"{label} {uri!r} has no host", rule=rule)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidClientMetadata(f"{label} {uri!r} must use https (http only on 127.0.0.1, localhost or [::1])",
                                    rule=rule)
    return uri


def check_grant_types(grant_types: Iterable[str], redirect_uris: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(grant_types))  # order kept, duplicates dropped
    if not chosen:
        raise InvalidClientMetadata("at least one grant type is required", rule=ClientRule.GRANT_TYPE_MISSING)
    unknown = [grant for grant in chosen if grant not in GRANT_TYPES]
    if unknown:
        raise InvalidClientMetadata(f"unsupported grant type {unknown[0]!r}; choose from {', '.join(GRANT_TYPES)}",
                                    rule=ClientRule.GRANT_TYPE_UNSUPPORTED)
    if "refresh_token" in chosen and "authorization_code" not in chosen:
        raise InvalidClientMetadata("refresh_token needs authorization_code: refresh tokens come from a sign-in",
                                    rule=ClientRule.REFRESH_WITHOUT_CODE)
    if "authorization_code" in chosen and not redirect_uris:
        raise InvalidClientMetadata("authorization_code needs at least one redirect URI",
                                    rule=ClientRule.CODE_WITHOUT_REDIRECT_URI)
    return chosen


def check_auth_method(auth_method: str, is_public: bool, grant_types: Sequence[str]) -> None:
    if auth_method not in AUTH_METHODS:
        raise InvalidClientMetadata(f"token endpoint auth method must be one of {', '.join(AUTH_METHODS)}",
                                    rule=ClientRule.AUTH_METHOD_UNSUPPORTED)
    if is_public != (auth_method == "none"):
        raise InvalidClientMetadata("public clients, and only they, use the auth method none",
                                    rule=ClientRule.AUTH_METHOD_PUBLIC)
    if is_public and "client_credentials" in grant_types:
        # A public client cannot prove who it is, so it cannot act on its own behalf (RFC 6749 §4.4).
        raise InvalidClientMetadata("public clients cannot use client_credentials",
                                    rule=ClientRule.PUBLIC_CLIENT_CREDENTIALS)


def check_profile_name(profile: str) -> None:
    if profile not in PROFILES:
        raise InvalidClientMetadata(f"profile must be one of {', '.join(PROFILES)} (or none on update)",
                                    rule=ClientRule.PROFILE_UNSUPPORTED)


def check_profile(client: Client) -> None:
    """FAPI 2.0 Security Profile §5.3.2 and Message Signing §5, as far as Passerelle reaches
    (docs/oidc.md, The fapi2 profile): a confidential client authenticating with
    private_key_jwt, PKCE, pushed and signed authorization requests, DPoP-bound tokens, ES256
    ID tokens (what it may sign with: signing_algs_for). The authorization
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
        (client.id_token_signed_response_alg != FAPI2_ID_TOKEN_ALG, f"{FAPI2_ID_TOKEN_ALG} ID tokens (--id-token-alg)"),
    ) if broken]
    if needs:
        raise InvalidClientMetadata(f"the fapi2 profile needs {', '.join(needs)}; "
                                    "`idp clients update CLIENT_ID --profile none` lifts the profile first",
                                    rule=ClientRule.FAPI2)


def signing_algs_for(client: Any, supported: Iterable[str]) -> list[str]:
    """The algorithms of `supported` this client may sign its request objects, client
    assertions and DPoP proofs with: all of them, or under the fapi2 profile only PS256 and
    ES256 (FAPI 2.0 Security Profile §5.4.1). client: a Client record or its snapshot."""
    if client.profile != "fapi2":
        return list(supported)
    return [alg for alg in supported if alg in FAPI2_SIGNING_ALGS]


def check_pkce(require_pkce: bool, is_public: bool) -> None:
    """Only a confidential client may be let off PKCE (legacy clients; checklist OIDC-03)."""
    if not require_pkce and is_public:
        raise InvalidClientMetadata("public clients always use PKCE: it cannot be turned off for them",
                                    rule=ClientRule.PUBLIC_PKCE)


def check_keys(jwks: Mapping[str, Any] | None, jwks_uri: str | None,
                auth_method: str) -> tuple[dict[str, Any] | None, str | None]:
    """The client's public keys, by value or by URI, never both (RFC 7591 §2): required for
    private_key_jwt (RFC 7523), optional otherwise (signed request objects, RFC 9101).
    Returns (jwks, jwks_uri)."""
    if jwks and jwks_uri:
        raise InvalidClientMetadata("give the client's keys as a JWKS or a jwks_uri, not both",
                                    rule=ClientRule.KEYS_BOTH)
    if jwks_uri:
        return None, check_uri(jwks_uri, "jwks_uri")
    if not jwks and auth_method != "private_key_jwt":
        return None, None
    return check_jwks(jwks), None


def check_request_objects(require_signed: bool | None, allow_unsigned: bool | None, keys: Any) -> None:
    """A client that must sign its request objects needs keys to verify them, and cannot
    also be allowed unsigned ones."""
    if require_signed and allow_unsigned:
        raise InvalidClientMetadata("a client that must sign its request objects cannot be allowed unsigned ones",
                                    rule=ClientRule.SIGNED_AND_UNSIGNED)
    if require_signed and not keys:
        raise InvalidClientMetadata("signed request objects need the client's public keys (a JWKS or a jwks_uri)",
                                    rule=ClientRule.SIGNED_WITHOUT_KEYS)


def check_jwks(jwks: Mapping[str, Any] | None) -> dict[str, Any]:
    """A JWKS of public keys (RFC 7517 §5)."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise InvalidClientMetadata('private_key_jwt needs a JWKS or a jwks_uri; a JWKS is {"keys": [...]} with at least one key',
                                    rule=ClientRule.JWKS_MISSING)
    for key in keys:
        if not isinstance(key, Mapping):
            raise InvalidClientMetadata("every JWKS entry must be a JSON object", rule=ClientRule.JWKS_INVALID)
        if "d" in key or key.get("kty") == "oct":
            raise InvalidClientMetadata("the JWKS must hold public keys only (found a private or symmetric key)",
                                        rule=ClientRule.JWKS_PRIVATE)
    try:
        KeySet.import_key_set({"keys": [dict(key) for key in keys]})
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidClientMetadata(f"the JWKS could not be parsed: {error}", rule=ClientRule.JWKS_INVALID) from None
    return {"keys": [dict(key) for key in keys]}


def check_scope(scope: str) -> str:
    requested = scope.split()
    if "openid" not in requested:
        raise InvalidClientMetadata("scope must include openid", rule=ClientRule.SCOPE_WITHOUT_OPENID)
    unknown = [item for item in requested if item not in SUPPORTED_SCOPES + OPERATOR_SCOPES + API_SCOPES]
    if unknown:
        choices = " ".join(SUPPORTED_SCOPES + OPERATOR_SCOPES + API_SCOPES)
        raise InvalidClientMetadata(f"unsupported scope {unknown[0]!r}; choose from {choices}",
                                    rule=ClientRule.SCOPE_UNSUPPORTED)
    return " ".join(dict.fromkeys(requested))


def check_initiate_login_uri(uri: str | None) -> str | None:
    """Third-party-initiated login URI (OIDC Core §4, Registration §2): https, like a
    redirect URI (http only on loopback); Passerelle sends invited people there."""
    if uri is None:
        return None
    return check_uri(uri, "initiate_login_uri")


def check_logout_uri(uri: str | None, label: str) -> str | None:
    """Back-Channel Logout §2.2 and Front-Channel Logout §2: an absolute URL that may carry a
    query but no fragment; checked like a redirect URI (https, http only on loopback)."""
    if uri is None:
        return None
    return check_uri(uri, label)


def sector_for(explicit: str | None, redirect_uris: Sequence[str], subject_type: str, client_id: str) -> str:
    """The sector that pairwise subjects are derived from (OIDC Core §8.1).

    Clients sharing a sector see the same subject for a person, so it is never guessed:
    redirect URIs on several hosts need an explicit sector.
    """
    if explicit is not None:
        sector = explicit.strip().lower()
        if not HOST_PATTERN.fullmatch(sector):
            raise InvalidClientMetadata("sector identifier must be a host name such as portal.example.ca",
                                        rule=ClientRule.SECTOR_INVALID)
        return sector
    hosts = list(dict.fromkeys(urlsplit(uri).hostname for uri in redirect_uris))
    if len(hosts) > 1 and subject_type == "pairwise":
        raise InvalidClientMetadata(
            f"redirect URIs span several hosts ({', '.join(hosts)}): give a sector identifier",
            rule=ClientRule.SECTOR_NEEDED)
    # Without redirect URIs (client_credentials only) no person is involved: the client is its own sector.
    return hosts[0] if hosts else client_id
