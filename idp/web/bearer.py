"""What Passerelle's JSON APIs for relying parties share (the invitations API, issue 3; the
organizations API, issue 11): Bearer authentication with a client_credentials access token
carrying the API's scope (RFC 6749 §4.4, RFC 6750), JSON errors `{"error",
"error_description"}` whose descriptions are English for developers (ASCII, RFC 6749 §5.2),
and answers no cache keeps. No cookies are involved, so CSRF does not apply.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from idp.extensions import csrf, db
from idp.oidc.directory import OAuthClient
from idp.oidc.endpoints import dpop_refusal

MAX_TOKEN_LENGTH = 512  # ours are 43 characters; userinfo applies the same cap

ERROR_STATUS_NAMES = {
    400: ("invalid_request", "The request is malformed."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("invalid_request", "The request body is too large."),
    415: ("invalid_request", "The body must be application/json."),
    429: ("too_many_requests", "Too many requests: wait, then try again."),
}


class ApiError(Exception):
    """An error answer: status, OAuth-style error code, description, extra headers."""

    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}


def oidc_server():
    return current_app.extensions["oidc_server"]


def bearer_challenge(error: str, description: str, status: int, scope: str) -> ApiError:
    challenge = f'Bearer realm="passerelle", error="{error}", error_description="{description}"'
    if error == "insufficient_scope":
        challenge += f', scope="{scope}"'
    return ApiError(status, error, description, {"WWW-Authenticate": challenge})


def presented_token() -> str | None:
    """The access token of the Authorization header: Bearer, or DPoP for a DPoP-bound one."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "dpop") or not value.strip():
        return None
    return value.strip()


def token_row():
    """The active access token presented, looked up once per request (the rate limit's
    key and the view both need it). None when absent, unknown, expired or revoked."""
    if "api_token" not in g:
        plain = presented_token()
        row = None
        if plain is not None and len(plain) <= MAX_TOKEN_LENGTH:
            row = oidc_server().tokens().find_active_access_token(plain)
        g.api_token = row
    return g.api_token


def authenticated_client(scope: str) -> OAuthClient:
    """The client behind a valid client_credentials token with this API scope.

    Reuses the provider's token lookup (TokenService.find_active_access_token) and client
    directory. Raises ApiError 401 invalid_token or 403 insufficient_scope (RFC 6750 §3.1).
    """
    if presented_token() is None:
        # No credentials at all: a bare challenge, no error code (RFC 6750 §3.1).
        raise ApiError(
            401, "invalid_token", "A bearer access token is required.", {"WWW-Authenticate": 'Bearer realm="passerelle"'}
        )
    token = token_row()
    if token is None:
        raise bearer_challenge("invalid_token", "The access token is invalid, expired or revoked.", 401, scope)
    client = oidc_server().clients.get(db.session, token.client_id)
    if client is None:
        raise bearer_challenge("invalid_token", "The access token is no longer valid.", 401, scope)
    scheme = request.headers.get("Authorization", "").partition(" ")[0].lower()
    if token.dpop_jkt is not None or scheme == "dpop":
        # A DPoP-bound token only with a proof by its key, never as Bearer (RFC 9449 §7).
        refusal = dpop_refusal(oidc_server(), request, token, presented_token(), scheme)
        if refusal:
            status, body, headers = refusal
            raise ApiError(status, body["error"], body["error_description"], headers)
        db.session.commit()  # the proof's jti, spent whatever the view does next
    # A person's token (authorization code grant) never uses these APIs, even if the client
    # could ask for the scope there: only the client acting for itself does.
    if token.user_id is not None or scope not in token.scope.split() or scope not in client.scopes:
        raise bearer_challenge(
            "insufficient_scope", f"This API needs a client_credentials token with the {scope} scope.", 403, scope
        )
    return client


def rate_limit_key(prefix: str) -> str:
    """Per client when the token is valid; otherwise per address, so guessing tokens is
    limited too."""
    token = token_row()
    if token is not None:
        return f"{prefix}:client:{token.client_id}"
    return f"{prefix}:address:{get_remote_address()}"


def no_store(response: Response) -> Response:
    """These answers hold personal data: no cache keeps them (RFC 9111 §5.2.2.5)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def api_error(error: ApiError) -> tuple[Response, int, dict[str, str]]:
    db.session.rollback()
    return jsonify(error=error.error, error_description=error.description), error.status, error.headers


def http_error(error: HTTPException) -> tuple[Response, int, dict[str, str]]:
    """Framework errors on these routes (rate limit, size, method) in the same JSON shape."""
    status = error.code or 500
    name, description = ERROR_STATUS_NAMES.get(status, ("invalid_request", "The request could not be processed."))
    original = error.get_response()
    kept = {key: original.headers[key] for key in ("Allow", "Retry-After") if key in original.headers}
    return jsonify(error=name, error_description=description), status, kept


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api with these errors and headers, exempt from CSRF."""
    bp = Blueprint(name, import_name, url_prefix="/api")
    csrf.exempt(bp)
    bp.register_error_handler(ApiError, api_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.after_request(no_store)
    return bp
