"""`idp orgs`: organizations (issue 11): create one and invite its primary user, list,
show, disable, enable, its members, invite a member, attach it to a relying party's
organizations API, and decide change requests.

Each command runs one service call (idp/orgs), commits, then sends the emails it queued at
once; if SMTP is down they stay queued and `idp mail send-pending` retries them. Errors are
one line and exit status 1 (2 for a usage error), never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from idp.cli.base import in_app, json_option, print_json, services
from idp.cli.invitations import _operator_name


def organization_service():
    from idp.mail.delivery import get_mail_service
    from idp.orgs.requests import ChangeRequestService

    session, context = services()
    return ChangeRequestService(session, context.settings, context.clock, context.hasher, get_mail_service())


def _commit_and_send() -> str:
    """Commit, then send what the command queued. Returns what happened, in words."""
    from idp.extensions import db as database
    from idp.mail.delivery import deliver
    from idp.mail.services import QUEUED_IDS

    database.session.commit()
    queued = database.session.info.pop(QUEUED_IDS, None) or []
    if not queued:
        return "none"
    sent, _failed = deliver(queued)
    if sent == len(queued):
        return "sent"
    return "queued: the SMTP server did not take every email; `idp mail send-pending` retries"


def _organization_dict(organization, service=None) -> dict[str, Any]:
    data = {
        "id": organization.public_id,
        "kind": organization.kind,
        "number": organization.number,
        "name": {"fr": organization.name_fr, "en": organization.name_en},
        "state": organization.state,
        "created_at": organization.created_at,
        "updated_at": organization.updated_at,
        "disabled_at": organization.disabled_at,
    }
    if service is not None:
        from idp.accounts.models import User

        primary = service.primary_of(organization.id)
        data["primary_user"] = service.session.get(User, primary.user_id).email if primary else None
        data["members"] = len(service.members(organization.id))
        data["pending_invitations"] = [_invitation_dict(invitation) for invitation in
                                       service.pending_invitations(organization.id)]
        data["clients"] = attachment_service().clients_of(organization.id)
    return data


def _invitation_dict(invitation) -> dict[str, Any]:
    return {"invitation_id": invitation.id, "email": invitation.email, "role": invitation.organization_role,
            "expires_at": invitation.expires_at}


def _member_dict(membership, user) -> dict[str, Any]:
    return {
        "membership_id": membership.id,
        "email": user.email,
        "name": user.name,
        "role": membership.role,
        "state": membership.state,
        "invited_by": membership.invited_by_operator or (
            f"user:{membership.invited_by_user_id}" if membership.invited_by_user_id else None
        ),
        "invited_at": membership.invited_at,
        "created_at": membership.created_at,
        "ended_at": membership.ended_at,
    }


def _request_dict(request, service) -> dict[str, Any]:
    from idp.accounts.models import User
    from idp.orgs.models import Membership, Organization

    organization = service.session.get(Organization, request.organization_id)
    target = service.session.get(Membership, request.target_membership_id) if request.target_membership_id else None
    requester = service.session.get(User, request.requested_by_user_id) if request.requested_by_user_id else None
    return {
        "id": request.id,
        "public_id": request.public_id,
        "organization": organization.public_id,
        "organization_number": organization.number,
        "kind": request.kind,
        "state": request.state,
        "requested_by": requester.email if requester else None,
        "target": service.session.get(User, target.user_id).email if target else None,
        "new_email": request.new_email,
        "former_primary_becomes": request.former_primary_becomes,
        "reason": request.reason,
        "created_at": request.created_at,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
        "decision_reason": request.decision_reason,
        "invitation_id": request.invitation_id,
    }


def _show(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(item.get("email", item) if isinstance(item, dict) else item) for item in value) or "-"
        shown = "-" if value is None else value.isoformat() if hasattr(value, "isoformat") else value
        click.echo(f"{key:22} {shown}")


@click.group()
def orgs() -> None:
    """Organizations: institutions whose primary user invites secondary users."""


@orgs.command("create")
@click.option("--kind", type=click.Choice(["dli", "issuer"]), required=True,
              help="dli: a designated learning institution; issuer: a school issuing documents.")
@click.option("--number", required=True, help="Unique per kind; a DLI number reads like O123456789012.")
@click.option("--name-fr", required=True, help="The name in French.")
@click.option("--name-en", required=True, help="The name in English.")
@click.option("--primary-email", required=True, help="The primary user's address: it receives an invitation code.")
@click.option("--locale", type=click.Choice(["fr", "en"]), help="Language of the invitation. Default: BABEL_DEFAULT_LOCALE.")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def orgs_create(kind, number, name_fr, name_en, primary_email, locale, created_by, as_json) -> None:
    """Create an organization and send its primary user a code invitation."""
    from idp.orgs.memberships import Inviter

    service = organization_service()
    operator = created_by or _operator_name()
    organization = service.create(kind=kind, number=number, name_fr=name_fr, name_en=name_en, by_operator=operator)
    invitation, _code = service.invite(organization.id, email=primary_email, role="primary",
                                       inviter=Inviter(operator=operator), locale=locale)
    status = _commit_and_send()
    data = _organization_dict(organization)
    data["invitation"] = {**_invitation_dict(invitation), "email_status": status}
    if as_json:
        print_json(data)
        return
    click.echo(f"organization {data['id']} ({kind} {organization.number}) created")
    click.echo(f"primary user invited: {invitation.email} (invitation {invitation.id}), email {status}")


@orgs.command("list")
@click.option("--kind", type=click.Choice(["dli", "issuer"]))
@click.option("--state", type=click.Choice(["active", "disabled"]))
@json_option
@in_app
def orgs_list(kind, state, as_json) -> None:
    """List organizations by kind and number."""
    rows = [_organization_dict(organization) for organization in organization_service().list(kind=kind, state=state)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no organizations")
    for row in rows:
        click.echo(f"{row['id']:18} {row['kind']:6} {row['number']:15} {row['state']:8} {row['name']['en']}")


@orgs.command("show")
@click.argument("organization")
@json_option
@in_app
def orgs_show(organization, as_json) -> None:
    """Show an organization (by id or number), its primary user and pending invitations."""
    service = organization_service()
    _show(_organization_dict(service.get(organization), service), as_json)


@orgs.command("disable")
@click.argument("organization")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def orgs_disable(organization, created_by, as_json) -> None:
    """Disable an organization: its pending invitations are revoked, its members told."""
    service = organization_service()
    found = service.disable(service.get(organization).id, by_operator=created_by or _operator_name())
    _commit_and_send()
    _show(_organization_dict(found), as_json)


@orgs.command("enable")
@click.argument("organization")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def orgs_enable(organization, created_by, as_json) -> None:
    """Enable a disabled organization again."""
    service = organization_service()
    found = service.enable(service.get(organization).id, by_operator=created_by or _operator_name())
    _commit_and_send()
    _show(_organization_dict(found), as_json)


@orgs.command("members")
@click.argument("organization")
@click.option("--all", "include_ended", is_flag=True, help="Also members who left or were removed.")
@json_option
@in_app
def orgs_members(organization, include_ended, as_json) -> None:
    """List an organization's members, the primary user first."""
    service = organization_service()
    found = service.get(organization)
    rows = [_member_dict(membership, user) for membership, user in
            service.members(found.id, include_ended=include_ended)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no members")
    for row in rows:
        click.echo(f"{row['membership_id']:>6} {row['role']:9} {row['state']:6} {row['email']}")


@orgs.command("invite")
@click.argument("organization")
@click.option("--email", required=True, help="The address invited; only it can register with the code.")
@click.option("--role", type=click.Choice(["secondary", "primary"]), default="secondary", show_default=True,
              help="primary only while the organization has none.")
@click.option("--locale", type=click.Choice(["fr", "en"]), help="Language of the invitation.")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def orgs_invite(organization, email, role, locale, created_by, as_json) -> None:
    """Send a code invitation to join the organization with this role."""
    from idp.orgs.memberships import Inviter

    service = organization_service()
    found = service.get(organization)
    invitation, _code = service.invite(found.id, email=email, role=role,
                                       inviter=Inviter(operator=created_by or _operator_name()), locale=locale)
    status = _commit_and_send()
    data = {**_invitation_dict(invitation), "organization": found.public_id, "email_status": status}
    if as_json:
        print_json(data)
        return
    click.echo(f"invitation {invitation.id} for {invitation.email} ({role}): email {status}")


def attachment_service():
    from idp.orgs.attachments import AttachmentService

    session, context = services()
    return AttachmentService(session, context.clock)


def _attachment(action: str, organization: str, client_id: str, created_by: str | None, as_json: bool) -> None:
    from idp.extensions import db as database

    found = organization_service().get(organization)
    attachments = attachment_service()
    method = attachments.attach if action == "attach" else attachments.detach
    changed = method(found, client_id, by_operator=created_by or _operator_name())
    database.session.commit()
    data = {"organization": found.public_id, "client_id": client_id, "changed": changed,
            "clients": attachments.clients_of(found.id)}
    if as_json:
        print_json(data)
        return
    done = {"attach": ("attached to", "already attached to"), "detach": ("detached from", "was not attached to")}
    click.echo(f"{found.public_id} {done[action][0 if changed else 1]} client {client_id}")


@orgs.command("attach")
@click.argument("organization")
@click.option("--client", "client_id", required=True, help="The client_id whose organizations API may manage it.")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def orgs_attach(organization, client_id, created_by, as_json) -> None:
    """Let a relying party manage this organization through /api/organizations (scope organizations)."""
    _attachment("attach", organization, client_id, created_by, as_json)


@orgs.command("detach")
@click.argument("organization")
@click.option("--client", "client_id", required=True, help="The client_id to detach.")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def orgs_detach(organization, client_id, created_by, as_json) -> None:
    """Stop a relying party's organizations API from reaching this organization."""
    _attachment("detach", organization, client_id, created_by, as_json)


@orgs.group("requests")
def orgs_requests() -> None:
    """Requests to change the primary user or remove a secondary user."""


@orgs_requests.command("list")
@click.option("--state", type=click.Choice(["pending", "approved", "rejected"]))
@click.option("--organization", help="Only this organization's (id or number).")
@json_option
@in_app
def requests_list(state, organization, as_json) -> None:
    """List requests, oldest first."""
    service = organization_service()
    organization_id = service.get(organization).id if organization else None
    rows = [_request_dict(request, service) for request in
            service.list_requests(state=state, organization_id=organization_id)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no requests")
    for row in rows:
        concerned = row["target"] or row["new_email"]
        click.echo(f"{row['id']:>6} {row['state']:8} {row['kind']:16} {row['organization_number']:15} {concerned}")


def _decide(decision: str, request_id: str, reason: str | None, created_by: str | None, as_json: bool) -> None:
    service = organization_service()
    method = service.approve if decision == "approve" else service.reject
    request = method(request_id, by_operator=created_by or _operator_name(), reason=reason)
    status = _commit_and_send()
    data = _request_dict(request, service)
    data["email_status"] = status
    if as_json:
        print_json(data)
        return
    click.echo(f"request {request.id} {request.state}; emails {status}")


@orgs_requests.command("approve")
@click.argument("request_id")
@click.option("--reason", help="A note for the requester, sent in their email.")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def requests_approve(request_id, reason, created_by, as_json) -> None:
    """Approve a pending request and apply it."""
    _decide("approve", request_id, reason, created_by, as_json)


@orgs_requests.command("reject")
@click.argument("request_id")
@click.option("--reason", help="Why, sent to the requester.")
@click.option("--created-by", help="Operator name recorded. Default: your login name.")
@json_option
@in_app
def requests_reject(request_id, reason, created_by, as_json) -> None:
    """Reject a pending request: nothing changes."""
    _decide("reject", request_id, reason, created_by, as_json)
