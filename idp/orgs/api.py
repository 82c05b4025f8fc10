"""/api/organizations: relying parties manage the organizations an operator attached to
them (issue 11, For relying parties).

The shape of the invitations API (idp/invitations/api.py), with its authentication, JSON
errors, rate-limit key and no-store answers (idp/web/bearer.py): Bearer access tokens from
the client_credentials grant with the `organizations` scope (RFC 6749 §4.4, RFC 6750), no
cookies (the blueprint is CSRF-exempt), errors `{"error", "error_description"}` in English
for developers. Described in docs/openapi.yaml.

- A client reaches only the organizations attached to it (`idp orgs attach`); any other id,
  existing or not, answers 404 (idp.orgs.attachments).
- People are named by their `sub` for this client (pairwise unless the client has public
  subjects), as in its ID tokens: members are listed with it, and an invitation or a request
  is made on behalf of the organization's active primary user, named by `acting_sub`, as
  the primary user's own pages would make it (the service checks who is primary).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import jsonify, request

from idp.accounts.models import User
from idp.context import app_context
from idp.extensions import db, limiter
from idp.invitations.models import Invitation
from idp.mail.delivery import get_mail_service
from idp.oidc.directory import OAuthClient
from idp.orgs import errors
from idp.orgs.attachments import AttachmentService
from idp.orgs.models import ChangeRequest, MemberRole, Membership, Organization
from idp.orgs.requests import ChangeRequestService
from idp.orgs.memberships import Inviter
from idp.web import bearer
from idp.web.bearer import ApiError

bp = bearer.api_blueprint("organizations_api", __name__)

API_SCOPE = "organizations"  # one of idp.oidc.client_rules.API_SCOPES
MAX_SUB_LENGTH = 255
INVITATION_MEMBERS = {"acting_sub", "email", "locale"}
REQUEST_MEMBERS = {"acting_sub", "kind", "reason", "target_sub", "new_email", "locale", "former_primary_becomes"}
LOCALES = ("fr", "en")

# Domain refusals: (status, error, description). 404 is only for what the client may not
# see; a refusal about what it asked is 400, 403 or 409.
REFUSALS: dict[type[errors.OrgError], tuple[int, str, str]] = {
    errors.OrganizationNotFound: (404, "not_found", "No such organization."),
    errors.NotPrimaryUser: (403, "access_denied", "'acting_sub' is not the organization's active primary user."),
    errors.OrganizationDisabled: (409, "organization_disabled", "The organization is disabled."),
    errors.AlreadyMember: (409, "already_member", "This address already belongs to a member of the organization."),
    errors.RequestAlreadyPending: (409, "request_pending", "An identical request is already waiting for a decision."),
    errors.LastPrimaryCannotBeRemoved: (
        409, "primary_cannot_be_removed", "The primary user cannot be removed: ask to change the primary user instead."),
    errors.MemberNotFound: (400, "invalid_request", "'target_sub' names no active member of the organization."),
    errors.PrimaryAlreadyExists: (409, "primary_exists", "The organization already has an active primary user."),
}


def get_services() -> tuple[ChangeRequestService, AttachmentService]:
    ctx = app_context()
    service = ChangeRequestService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_mail_service())
    return service, AttachmentService(db.session, ctx.clock)


def rate_limit_key() -> str:
    return bearer.rate_limit_key("organizations-api")


def _rate_limit() -> str:
    return app_context().settings.ORGANIZATION_API_RATE_LIMIT


def refusal(error: errors.OrgError) -> ApiError:
    """The JSON answer for a domain error; never a 500 for one the table forgot."""
    if isinstance(error, errors.InvalidOrganization):
        return ApiError(400, "invalid_request", ascii_text(f"Invalid '{error.field}': {error.reason}."))
    status, code, description = REFUSALS.get(
        type(error), (400, "invalid_request", (type(error).__doc__ or "Refused.").strip().splitlines()[0]))
    return ApiError(status, code, ascii_text(description))


def ascii_text(text: str) -> str:
    return text.encode("ascii", "replace").decode()


# Representations: never an internal id, a secret or another client's subject.


def iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def organization_json(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.public_id,
        "kind": organization.kind,
        "number": organization.number,
        "name": {"fr": organization.name_fr, "en": organization.name_en},
        "state": organization.state,
        "created_at": iso(organization.created_at),
        "disabled_at": iso(organization.disabled_at),
    }


def subject(client: OAuthClient, user: User | None) -> str | None:
    return bearer.oidc_server().subject(client, user) if user is not None else None


def member_json(client: OAuthClient, membership: Membership, user: User) -> dict[str, Any]:
    return {
        "sub": subject(client, user),
        "email": user.email,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "role": membership.role,
        "state": membership.state,
        "joined_at": iso(membership.created_at),
        "ended_at": iso(membership.ended_at),
    }


def invitation_json(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.public_id,
        "email": invitation.email,
        "role": invitation.organization_role,
        "state": invitation.state_at(app_context().clock()).value,
        "locale": invitation.locale,
        "created_at": iso(invitation.created_at),
        "expires_at": iso(invitation.expires_at),
    }


def request_json(client: OAuthClient, change: ChangeRequest) -> dict[str, Any]:
    session = db.session
    target = session.get(Membership, change.target_membership_id) if change.target_membership_id else None
    requester = session.get(User, change.requested_by_user_id) if change.requested_by_user_id else None
    return {
        "id": change.public_id,
        "kind": change.kind,
        "state": change.state,
        "reason": change.reason,
        "requested_by_sub": subject(client, requester),
        "target_sub": subject(client, session.get(User, target.user_id)) if target is not None else None,
        "new_email": change.new_email,
        "former_primary_becomes": change.former_primary_becomes,
        "created_at": iso(change.created_at),
        "decided_at": iso(change.decided_at),
        "decision_reason": change.decision_reason,
    }


# Input


def json_body(allowed: set[str], required: tuple[str, ...]) -> dict[str, str | None]:
    """The JSON object sent, its members all strings (or null), none unknown, the required
    ones present. Raises ApiError 400 invalid_request naming the member."""
    if not request.is_json:
        raise ApiError(400, "invalid_request", "The body must be application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    unknown = sorted(str(name) for name in body if name not in allowed)
    if unknown:
        raise ApiError(400, "invalid_request", ascii_text(f"Unknown member '{unknown[0][:40]}'."))
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_request", f"'{name}' must be a string.")
    for name in required:
        if not body.get(name):
            raise ApiError(400, "invalid_request", f"Missing '{name}'.")
    if body.get("locale") is not None and body["locale"] not in LOCALES:
        raise ApiError(400, "invalid_request", "'locale' must be fr or en.")
    return body


def member_by_sub(service: ChangeRequestService, organization: Organization, client: OAuthClient,
                  sub: str | None) -> tuple[Membership, User] | None:
    """The active member whose subject for this client is sub. Pairwise subjects cannot be
    reversed, so each member's is computed (an organization has tens of members) and
    compared in constant time, as server.subject derives it for ID tokens."""
    if not sub or len(sub) > MAX_SUB_LENGTH:
        return None
    for membership, user in service.members(organization.id):
        if hmac.compare_digest(subject(client, user).encode(), sub.encode()):
            return membership, user
    return None


def acting_primary(service: ChangeRequestService, organization: Organization, client: OAuthClient,
                   sub: str | None) -> int:
    """The user id of the active primary user named by acting_sub. A stranger's sub is
    refused as a secondary's is; the service checks the role again within the change."""
    found = member_by_sub(service, organization, client, sub)
    if found is None or found[0].role != MemberRole.PRIMARY:
        raise refusal(errors.NotPrimaryUser())
    return found[1].id


def attached(client: OAuthClient, organization_id: str) -> tuple[ChangeRequestService, Organization]:
    service, attachments = get_services()
    try:
        return service, attachments.organization_for_client(organization_id, client.client_id)
    except errors.OrgError as error:
        raise refusal(error) from None


# Routes


@bp.get("/organizations")
def list_organizations():
    client = bearer.authenticated_client(API_SCOPE)
    _service, attachments = get_services()
    found = attachments.organizations_of(client.client_id)
    return jsonify({"organizations": [organization_json(organization) for organization in found]})


@bp.get("/organizations/<organization_id>")
def get_organization(organization_id: str):
    client = bearer.authenticated_client(API_SCOPE)
    _service, organization = attached(client, organization_id)
    return jsonify(organization_json(organization))


@bp.get("/organizations/<organization_id>/members")
def list_members(organization_id: str):
    client = bearer.authenticated_client(API_SCOPE)
    service, organization = attached(client, organization_id)
    rows = service.members(organization.id)
    return jsonify({"members": [member_json(client, membership, user) for membership, user in rows]})


@bp.get("/organizations/<organization_id>/invitations")
def list_member_invitations(organization_id: str):
    """The invitations nobody registered with nor withdrew (pending, then expired), as the
    primary user's own page lists them (issue 12: the portal's users page)."""
    client = bearer.authenticated_client(API_SCOPE)
    service, organization = attached(client, organization_id)
    found = service.open_invitations(organization.id)
    return jsonify({"invitations": [invitation_json(invitation) for invitation in found]})


@bp.post("/organizations/<organization_id>/invitations")
@limiter.limit(_rate_limit, key_func=rate_limit_key)
def create_member_invitation(organization_id: str):
    """« Nouvelle requête »: a secondary user's code invitation, made by the primary user."""
    client = bearer.authenticated_client(API_SCOPE)
    service, organization = attached(client, organization_id)
    body = json_body(INVITATION_MEMBERS, ("acting_sub", "email"))
    primary_id = acting_primary(service, organization, client, body["acting_sub"])
    try:
        invitation, _code = service.invite(organization.id, email=body["email"], role=MemberRole.SECONDARY,
                                           inviter=Inviter(user_id=primary_id), locale=body.get("locale"))
    except errors.OrgError as error:
        raise refusal(error) from None
    db.session.commit()
    response = jsonify(invitation_json(invitation))
    response.status_code = 201
    return response


@bp.get("/organizations/<organization_id>/requests")
def list_requests(organization_id: str):
    client = bearer.authenticated_client(API_SCOPE)
    service, organization = attached(client, organization_id)
    try:
        found = service.list_requests(state=request.args.get("state"), organization_id=organization.id)
    except errors.InvalidOrganization:
        raise ApiError(400, "invalid_request", "'state' must be pending, approved or rejected.") from None
    return jsonify({"requests": [request_json(client, change) for change in found]})


@bp.post("/organizations/<organization_id>/requests")
@limiter.limit(_rate_limit, key_func=rate_limit_key)
def create_request(organization_id: str):
    """Ask to change the primary user or remove a secondary user, as the primary user."""
    client = bearer.authenticated_client(API_SCOPE)
    service, organization = attached(client, organization_id)
    body = json_body(REQUEST_MEMBERS, ("acting_sub", "kind", "reason"))
    primary_id = acting_primary(service, organization, client, body["acting_sub"])
    target_id = None
    if body.get("target_sub") is not None:
        target = member_by_sub(service, organization, client, body["target_sub"])
        if target is None:
            raise refusal(errors.MemberNotFound())
        target_id = target[0].id
    try:
        change = service.submit_request(
            organization.id, by_user_id=primary_id, kind=body["kind"], reason=body["reason"],
            target_membership_id=target_id, new_email=body.get("new_email"), new_locale=body.get("locale"),
            former_primary_becomes=body.get("former_primary_becomes"),
        )
    except errors.OrgError as error:
        raise refusal(error) from None
    db.session.commit()
    response = jsonify(request_json(client, change))
    response.status_code = 201
    return response
