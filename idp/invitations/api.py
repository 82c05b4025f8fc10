"""POST/GET/DELETE /api/invitations: relying parties invite people (issue 3).

Bearer-authenticated with an access token from the client_credentials grant carrying the
`invitations` scope (RFC 6749 §4.4, RFC 6750). No cookies are involved, so CSRF does not
apply and the blueprint is exempt. Errors are JSON `{"error", "error_description"}`; the
descriptions are for the client's developers (ASCII, RFC 6749 §5.2), not translated.
Described in docs/openapi.yaml.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from idp.context import app_context
from idp.extensions import csrf, db, limiter
from idp.invitations.errors import InvalidInvitation, InvitationAlreadyUsed, InvitationNotFound
from idp.invitations.models import CreatorKind, Invitation, InvitationState
from idp.invitations.services import InvitationService
from idp.mail.delivery import get_mail_service
from idp.oidc.directory import OAuthClient

bp = Blueprint("invitations_api", __name__, url_prefix="/api")
csrf.exempt(bp)

API_SCOPE = "invitations"  # one of idp.oidc.clients.API_SCOPES
MAX_TOKEN_LENGTH = 512  # ours are 43 characters; userinfo applies the same cap
MAX_LIST_LIMIT = 100
# Members a client may send when creating an invitation; anything else is refused, so a
# misspelt member is an error rather than silently ignored.
CREATE_MEMBERS = {"email", "kind", "given_name", "family_name", "locale", "purpose", "inviter_name"}
REQUIRED_MEMBERS = ("email", "kind")

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


def get_invitation_service() -> InvitationService:
    ctx = app_context()
    return InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)


def _oidc_server():
    return current_app.extensions["oidc_server"]


def _bearer_challenge(error: str, description: str, status: int) -> ApiError:
    challenge = f'Bearer realm="passerelle", error="{error}", error_description="{description}"'
    if error == "insufficient_scope":
        challenge += f', scope="{API_SCOPE}"'
    return ApiError(status, error, description, {"WWW-Authenticate": challenge})


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _token_row():
    """The active access token presented, looked up once per request (the rate limit's
    key and the view both need it). None when absent, unknown, expired or revoked."""
    if "invitations_api_token" not in g:
        plain = _presented_token()
        row = None
        if plain is not None and len(plain) <= MAX_TOKEN_LENGTH:
            row = _oidc_server().tokens().find_active_access_token(plain)
        g.invitations_api_token = row
    return g.invitations_api_token


def authenticated_client() -> OAuthClient:
    """The client behind a valid client_credentials token with the invitations scope.

    Reuses the provider's token lookup (TokenService.find_active_access_token) and client
    directory. Raises ApiError 401 invalid_token or 403 insufficient_scope (RFC 6750 §3.1).
    """
    if _presented_token() is None:
        # No credentials at all: a bare challenge, no error code (RFC 6750 §3.1).
        raise ApiError(
            401, "invalid_token", "A bearer access token is required.", {"WWW-Authenticate": 'Bearer realm="passerelle"'}
        )
    token = _token_row()
    if token is None:
        raise _bearer_challenge("invalid_token", "The access token is invalid, expired or revoked.", 401)
    client = _oidc_server().clients.get(db.session, token.client_id)
    if client is None:
        raise _bearer_challenge("invalid_token", "The access token is no longer valid.", 401)
    # A person's token (authorization code grant) never manages invitations, even if the
    # client could ask for the scope there: only the client acting for itself does.
    if token.user_id is not None or API_SCOPE not in token.scope.split() or API_SCOPE not in client.scopes:
        raise _bearer_challenge(
            "insufficient_scope", "This API needs a client_credentials token with the invitations scope.", 403
        )
    return client


def rate_limit_key() -> str:
    """Per client when the token is valid; otherwise per address, so guessing tokens is
    limited too."""
    token = _token_row()
    if token is not None:
        return f"invitations-api:client:{token.client_id}"
    return f"invitations-api:address:{get_remote_address()}"


def _rate_limit() -> str:
    return app_context().settings.INVITATION_API_RATE_LIMIT


def representation(invitation: Invitation) -> dict[str, Any]:
    """What a client sees: never the secret, nor the internal id or the account's id."""
    now = app_context().clock()

    def iso(moment):
        return moment.isoformat().replace("+00:00", "Z") if moment else None

    return {
        "id": invitation.public_id,
        "email": invitation.email,
        "kind": invitation.kind,
        "state": invitation.state_at(now).value,
        "given_name": invitation.given_name,
        "family_name": invitation.family_name,
        "locale": invitation.locale,
        "inviter_name": invitation.inviter_name,
        "purpose": invitation.purpose,
        "created_at": iso(invitation.created_at),
        "expires_at": iso(invitation.expires_at),
        "accepted_at": iso(invitation.accepted_at),
        "revoked_at": iso(invitation.revoked_at),
        "last_sent_at": iso(invitation.last_sent_at),
    }


def _location(invitation: Invitation) -> str:
    # From the configured issuer, never from the request's Host header.
    return f"{app_context().settings.OIDC_ISSUER}/api/invitations/{invitation.public_id}"


def _create_arguments(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    unknown = sorted(str(name) for name in body if name not in CREATE_MEMBERS)
    if unknown:
        raise ApiError(400, "invalid_request", f"Unknown member '{unknown[0][:40]}'.".encode("ascii", "replace").decode())
    for name in REQUIRED_MEMBERS:
        if body.get(name) in (None, ""):
            raise ApiError(400, "invalid_request", f"Missing '{name}'.")
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_request", f"'{name}' must be a string.")
    return dict(body)


@bp.post("/invitations")
@limiter.limit(_rate_limit, key_func=rate_limit_key)
def create_invitation():
    client = authenticated_client()
    if not request.is_json:
        raise ApiError(400, "invalid_request", "The body must be application/json.")
    arguments = _create_arguments(request.get_json(silent=True))
    service = get_invitation_service()
    try:
        invitation, plain_secret = service.create(
            email=arguments["email"],
            kind=arguments["kind"],
            given_name=arguments.get("given_name"),
            family_name=arguments.get("family_name"),
            locale=arguments.get("locale"),
            inviter_name=arguments.get("inviter_name") or client.name,
            purpose=arguments.get("purpose"),
            created_by_kind=CreatorKind.CLIENT,
            created_by_id=client.client_id,
            client_id=client.client_id,
        )
    except InvalidInvitation as error:
        raise ApiError(400, "invalid_request", f"Invalid '{error.field}': {error.reason}.") from None
    service.send(invitation, plain_secret, get_mail_service())
    db.session.commit()
    response = jsonify(representation(invitation))
    response.status_code = 201
    response.headers["Location"] = _location(invitation)
    return response


@bp.get("/invitations")
def list_invitations():
    client = authenticated_client()
    state = request.args.get("state")
    if state is not None and state not in tuple(InvitationState):
        raise ApiError(400, "invalid_request", "'state' must be pending, accepted, expired or revoked.")
    raw_limit = request.args.get("limit", str(MAX_LIST_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIST_LIMIT:
        raise ApiError(400, "invalid_request", f"'limit' must be a whole number from 1 to {MAX_LIST_LIMIT}.")
    found = get_invitation_service().list(
        state=state,
        email=request.args.get("email"),
        created_by_kind=CreatorKind.CLIENT,
        created_by_id=client.client_id,
        limit=int(raw_limit),
    )
    return jsonify({"invitations": [representation(invitation) for invitation in found]})


@bp.get("/invitations/<invitation_id>")
def get_invitation(invitation_id: str):
    client = authenticated_client()
    return jsonify(representation(_own_invitation(invitation_id, client)))


@bp.delete("/invitations/<invitation_id>")
@limiter.limit(_rate_limit, key_func=rate_limit_key)
def revoke_invitation(invitation_id: str):
    """Revoke (idempotent): the link or code stops working at once."""
    client = authenticated_client()
    invitation = _own_invitation(invitation_id, client)
    try:
        invitation = get_invitation_service().revoke(invitation.id)
    except InvitationAlreadyUsed:
        raise ApiError(409, "invitation_accepted", "The invitation was already accepted; it cannot be revoked.") from None
    db.session.commit()
    return jsonify(representation(invitation))


def _own_invitation(public_id: str, client: OAuthClient) -> Invitation:
    try:
        return get_invitation_service().get_for_client(public_id, client.client_id)
    except InvitationNotFound:
        # 404 rather than 403 for another client's invitation: no oracle for ids.
        raise ApiError(404, "not_found", "No such invitation.") from None


@bp.after_request
def no_store(response: Response) -> Response:
    """Invitations hold personal data: no cache keeps them (RFC 9111 §5.2.2.5)."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> tuple[Response, int, dict[str, str]]:
    db.session.rollback()
    return jsonify(error=error.error, error_description=error.description), error.status, error.headers


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[Response, int, dict[str, str]]:
    """Framework errors on these routes (rate limit, size, method) in the same JSON shape."""
    status = error.code or 500
    name, description = ERROR_STATUS_NAMES.get(status, ("invalid_request", "The request could not be processed."))
    original = error.get_response()
    kept = {key: original.headers[key] for key in ("Allow", "Retry-After") if key in original.headers}
    return jsonify(error=name, error_description=description), status, kept
