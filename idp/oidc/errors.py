"""Domain errors of client registration (ClientService). The CLI turns them into messages."""

from __future__ import annotations

from enum import StrEnum


class ClientError(Exception):
    """Base class: something about a client registration cannot be done."""


class ClientNotFound(ClientError):
    """No client has this client_id."""

    def __init__(self, client_id: str):
        super().__init__(f"no client with client_id {client_id!r}")
        self.client_id = client_id


class ClientRule(StrEnum):
    """Which client-metadata rule a registration broke: the machine code of an
    InvalidClientMetadata, for a caller that words the refusal itself (the console, in the
    operator's language: idp.console.client_forms). The English message stays what the CLI
    prints and dynamic registration returns as error_description."""

    NAME = "name"
    REDIRECT_URI = "redirect_uri"
    POST_LOGOUT_REDIRECT_URI = "post_logout_redirect_uri"
    JWKS_URI = "jwks_uri"
    INITIATE_LOGIN_URI = "initiate_login_uri"
    BACKCHANNEL_LOGOUT_URI = "backchannel_logout_uri"
    FRONTCHANNEL_LOGOUT_URI = "frontchannel_logout_uri"
    GRANT_TYPE_MISSING = "grant_type_missing"
    GRANT_TYPE_UNSUPPORTED = "grant_type_unsupported"
    REFRESH_WITHOUT_CODE = "refresh_without_code"
    CODE_WITHOUT_REDIRECT_URI = "code_without_redirect_uri"
    AUTH_METHOD_UNSUPPORTED = "auth_method_unsupported"
    AUTH_METHOD_PUBLIC = "auth_method_public"  # none for public clients, and only for them
    PUBLIC_CLIENT_CREDENTIALS = "public_client_credentials"
    PUBLIC_PKCE = "public_pkce"
    PROFILE_UNSUPPORTED = "profile_unsupported"
    FAPI2 = "fapi2"
    KEYS_BOTH = "keys_both"
    JWKS_MISSING = "jwks_missing"
    JWKS_INVALID = "jwks_invalid"
    JWKS_PRIVATE = "jwks_private"
    SIGNED_AND_UNSIGNED = "signed_and_unsigned"
    SIGNED_WITHOUT_KEYS = "signed_without_keys"
    SCOPE_WITHOUT_OPENID = "scope_without_openid"
    SCOPE_UNSUPPORTED = "scope_unsupported"
    SECTOR_INVALID = "sector_invalid"
    SECTOR_NEEDED = "sector_needed"
    SECTOR_LOCKED = "sector_locked"  # a pairwise client's redirect URIs stay on its sector
    SUBJECT_TYPE = "subject_type"
    ID_TOKEN_ALG = "id_token_alg"
    MIN_ACR = "min_acr"
    NO_SECRET = "no_secret"
    SECRET_OVERLAP = "secret_overlap"
    CLIENT_ID_INVALID = "client_id_invalid"
    CLIENT_ID_TAKEN = "client_id_taken"
    INITIAL_TOKEN_LIFETIME = "initial_token_lifetime"
    # Dynamic registration's own (RFC 7591 and 7592 requests; no console form sends these).
    MALFORMED = "malformed"  # not JSON metadata of the right types
    CLIENT_ID_MISMATCH = "client_id_mismatch"
    UPDATE_FIELD = "update_field"  # sent in an update though it cannot be, or changed though fixed
    DYNAMIC_UNSUPPORTED = "dynamic_unsupported"  # offered by an operator only, not by dynamic registration


class InvalidClientMetadata(ClientError):
    """The registration would be unsafe or inconsistent; the message says which field and
    why (in English, for the CLI and RFC 7591's error_description), `rule` which rule.

    Named after the RFC 7591 §3.2.2 error code so an admin API can map it one to one.
    """

    def __init__(self, message: str, *, rule: ClientRule):
        super().__init__(message)
        self.message = message
        self.rule = rule


class SoftwareStatementNotAccepted(ClientError):
    """A registration carried a software statement (RFC 7591 §2.3): out of scope, refused
    with unapproved_software_statement rather than silently ignored."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DPoPError(Exception):
    """A DPoP proof (RFC 9449) cannot be accepted: `error` is invalid_dpop_proof, or
    use_dpop_nonce with the `nonce` the client must put in its next proof (§8)."""

    def __init__(self, description: str, *, error: str = "invalid_dpop_proof", nonce: str | None = None):
        super().__init__(description)
        self.description = description
        self.error = error
        self.nonce = nonce
