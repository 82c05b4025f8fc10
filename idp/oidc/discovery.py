"""The provider metadata (OIDC Discovery 1.0 §3, RFC 8414), built once per app."""

from __future__ import annotations

from idp.oidc.claims import CLAIMS_SUPPORTED, SUPPORTED_SCOPES
from idp.oidc.dpop import SIGNING_ALGS as DPOP_ALGS
from idp.oidc.grants import ASSERTION_ALGS, TOKEN_AUTH_METHODS
from idp.oidc.keys import SUPPORTED_ALGS
from idp.oidc.request_objects import SIGNING_ALGS as REQUEST_OBJECT_ALGS
from idp.oidc.server import ENDPOINT_PATHS
from idp.signin.assurance import ACR_VALUES_SUPPORTED


def provider_metadata(issuer: str) -> dict:
    def url(name: str) -> str:
        return issuer + ENDPOINT_PATHS[name]

    return {
        "issuer": issuer,
        "authorization_endpoint": url("authorization"),
        "token_endpoint": url("token"),
        "userinfo_endpoint": url("userinfo"),
        "jwks_uri": url("jwks"),
        "end_session_endpoint": url("end_session"),
        # Single sign-out (issue 14): logout tokens from `idp worker`, iframes on the
        # signed-out page; both carry the ID tokens' `sid`.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
        # PAR (RFC 9126 §5): any client may push; some must (their registration says so).
        "pushed_authorization_request_endpoint": url("pushed_authorization_request"),
        "require_pushed_authorization_requests": False,
        "revocation_endpoint": url("revocation"),
        "introspection_endpoint": url("introspection"),
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": [m for m in TOKEN_AUTH_METHODS if m != "none"],
        "code_challenge_methods_supported": ["S256"],
        # DPoP (RFC 9449 §5.1): proofs signed with these; tokens then bound to the key.
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": True,
        # JAR (RFC 9101): signed request objects by value or pushed (PAR); alg none only
        # for a client an operator allowed. request_uri: only PAR's, never fetched.
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "acr_values_supported": list(ACR_VALUES_SUPPORTED),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["fr", "en"],
        "claim_types_supported": ["normal"],
    }
