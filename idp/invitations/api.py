"""POST/GET/DELETE /api/invitations: relying parties invite people (issue 3) and tell a
person that a document waits for them (issue 13, `"purpose": "document"`).

Contract changes in issue 13 (docs/invitations-api.md, docs/openapi.yaml):
- `purpose` is now a code, not a sentence: "document" or absent; anything else is 400.
  A document invitation carries `details` and `return_url`, needs no `kind` (always a link)
  and sends one email: the sign-up invitation to a new address, "a new document is
  available" to an address with an account, which it is bound to at once. The answer is
  the same either way (state "pending" until the person acts).
- `GET /api/invitations?subject=<sub>` lists this client's invitations bound to a person.
- `DELETE` answers 204 with no body (it answered 200 with the invitation).

Bearer-authenticated with an access token from the client_credentials grant carrying the
`invitations` scope (RFC 6749 §4.4, RFC 6750). No cookies are involved, so CSRF does not
apply and the blueprint is exempt. Errors are JSON `{"error", "error_description"}`; the
descriptions are for the client's developers (ASCII, RFC 6749 §5.2), not translated.
Described in docs/openapi.yaml.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.context import app_context
from idp.extensions import db, limiter
from idp.invitations.binding import Bindings
from idp.invitations.errors import InvalidInvitation, InvitationAlreadyUsed, InvitationNotFound
from idp.invitations.models import CreatorKind, Invitation, InvitationKind, InvitationState
from idp.invitations.services import InvitationService
from idp.mail.delivery import get_mail_service
from idp.oidc.directory import OAuthClient
from idp.web import bearer
from idp.web.bearer import ApiError

bp = bearer.api_blueprint("invitations_api", __name__)

API_SCOPE = "invitations"  # one of idp.oidc.client_rules.API_SCOPES
MAX_LIST_LIMIT = 100
# Members a client may send when creating an invitation; anything else is refused, so a
# misspelt member is an error rather than silently ignored.
CREATE_MEMBERS = {"email", "kind", "given_name", "family_name", "locale", "purpose", "inviter_name", "details", "return_url"}
REQUIRED_MEMBERS = ("email",)
PURPOSES = ("document",)
OBJECT_MEMBERS = {"details"}  # the one member that is a JSON object rather than a string
MAX_SUB_LENGTH = 255


def get_invitation_service() -> InvitationService:
    ctx = app_context()
    return InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)


def authenticated_client() -> OAuthClient:
    """The client behind a valid client_credentials token with the invitations scope."""
    return bearer.authenticated_client(API_SCOPE)


def rate_limit_key() -> str:
    return bearer.rate_limit_key("invitations-api")


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
        "purpose": "document" if invitation.document is not None else None,
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
        if name in OBJECT_MEMBERS:
            if not isinstance(value, dict):
                raise ApiError(400, "invalid_request", f"'{name}' must be an object.")
        elif value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_request", f"'{name}' must be a string.")
    purpose = body.get("purpose")
    if purpose is not None and purpose not in PURPOSES:
        raise ApiError(400, "invalid_request", "Invalid 'purpose': must be document (or absent).")
    if purpose is None:
        for name in ("details", "return_url"):
            if name in body:
                raise ApiError(400, "invalid_request", f"'{name}' goes with purpose document.")
        if body.get("kind") in (None, ""):
            raise ApiError(400, "invalid_request", "Missing 'kind'.")
    else:
        for name in ("details", "return_url"):
            if body.get(name) in (None, ""):
                raise ApiError(400, "invalid_request", f"Missing '{name}'.")
    return dict(body)


@bp.post("/invitations")
@limiter.limit(_rate_limit, key_func=rate_limit_key)
def create_invitation():
    client = authenticated_client()
    if not request.is_json:
        raise ApiError(400, "invalid_request", "The body must be application/json.")
    arguments = _create_arguments(request.get_json(silent=True))
    service = get_invitation_service()
    is_document = arguments.get("purpose") == "document"
    try:
        invitation, plain_secret = service.create(
            email=arguments["email"],
            kind=arguments.get("kind") or InvitationKind.LINK,
            given_name=arguments.get("given_name"),
            family_name=arguments.get("family_name"),
            locale=arguments.get("locale"),
            inviter_name=arguments.get("inviter_name") or _issuer_name(arguments) or client.name,
            created_by_kind=CreatorKind.CLIENT,
            created_by_id=client.client_id,
            client_id=client.client_id,
            document=arguments.get("details") if is_document else None,
            return_url=arguments.get("return_url"),
            redirect_uris=client.redirect_uris,
        )
    except InvalidInvitation as error:
        raise ApiError(400, "invalid_request", _ascii(f"Invalid '{error.field}': {error.reason}.")) from None
    service.send(invitation, plain_secret, get_mail_service())
    # No user_id, even when bound: the audit trail an operator exports is the same either way.
    record_event(db.session, app_context().clock, EventTag.INVITATION_CREATED, client_id=client.client_id,
                 invitation=invitation.public_id, purpose="document" if is_document else None)
    db.session.commit()
    response = jsonify(representation(invitation))
    response.status_code = 201
    response.headers["Location"] = _location(invitation)
    return response


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()


def _issuer_name(arguments: dict[str, Any]) -> str | None:
    """"Who invites" for a document: the school's name in the invitation's language."""
    details = arguments.get("details")
    if arguments.get("purpose") != "document" or not isinstance(details, dict):
        return None
    names = details.get("issuer_name")
    locale = arguments.get("locale") or app_context().settings.BABEL_DEFAULT_LOCALE
    name = names.get(locale) if isinstance(names, dict) else None
    return name if isinstance(name, str) else None


def _bound_user(client: OAuthClient, sub: str) -> int | None:
    """The account whose subject for this client is sub, among those this client's
    invitations are bound to. Pairwise subjects cannot be reversed: each is derived, as for
    ID tokens, and compared in constant time."""
    if not sub or len(sub) > MAX_SUB_LENGTH:
        return None
    service = Bindings(get_invitation_service())
    for user in db.session.scalars(select(User).where(User.id.in_(service.bound_user_ids(client.client_id)))):
        if hmac.compare_digest(bearer.oidc_server().subject(client, user).encode(), sub.encode()):
            return user.id
    return None


@bp.get("/invitations")
def list_invitations():
    client = authenticated_client()
    if "subject" in request.args:
        return _list_for_subject(client, request.args["subject"])
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


def _list_for_subject(client: OAuthClient, sub: str):
    """This client's invitations bound to the person it knows as sub; an unknown sub is an
    empty list, like a person with none."""
    if any(name in request.args for name in ("email", "state")):
        raise ApiError(400, "invalid_request", "'subject' cannot be combined with 'email' or 'state'.")
    user_id = _bound_user(client, sub)
    found = [] if user_id is None else Bindings(get_invitation_service()).list_bound_to(client.client_id, user_id)
    return jsonify({"invitations": [representation(invitation) for invitation in found]})


@bp.get("/invitations/<invitation_id>")
def get_invitation(invitation_id: str):
    client = authenticated_client()
    return jsonify(representation(_own_invitation(invitation_id, client)))


@bp.delete("/invitations/<invitation_id>")
@limiter.limit(_rate_limit, key_func=rate_limit_key)
def revoke_invitation(invitation_id: str):
    """Revoke (idempotent, 204): the link or code stops working at once."""
    client = authenticated_client()
    invitation = _own_invitation(invitation_id, client)
    was_revoked = invitation.revoked_at is not None
    try:
        invitation = get_invitation_service().revoke(invitation.id)
    except InvitationAlreadyUsed:
        raise ApiError(409, "invitation_accepted", "The invitation was already accepted; it cannot be revoked.") from None
    if not was_revoked:
        record_event(db.session, app_context().clock, EventTag.INVITATION_REVOKED, client_id=client.client_id,
                     invitation=invitation.public_id)
    db.session.commit()
    return "", 204


def _own_invitation(public_id: str, client: OAuthClient) -> Invitation:
    try:
        return get_invitation_service().get_for_client(public_id, client.client_id)
    except InvitationNotFound:
        # 404 rather than 403 for another client's invitation: no oracle for ids.
        raise ApiError(404, "not_found", "No such invitation.") from None
