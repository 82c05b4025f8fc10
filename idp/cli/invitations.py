"""`idp invitations`: invite people to register, list, revoke and resend (InvitationService).

Decisions (docs/operators.md, Invitations):
- The invitation email is queued in the same transaction as the invitation, then sent at
  once; if SMTP is down it stays queued and `idp mail send-pending` retries it.
- The secret (link or code) is never printed unless asked with --show-secret, for an
  operator who hands it over another way (then --no-email skips the email). It is stored
  only as a keyed hash, so it cannot be shown again later: resend makes a new one.
"""

from __future__ import annotations

import getpass
from typing import Any

import click

from idp.cli.base import error_message, in_app, json_option, print_json, services


def invitation_service():
    from idp.invitations.services import InvitationService

    session, context = services()
    return InvitationService(session, context.settings, context.clock, context.hasher)


def _operator_name() -> str:
    try:
        return getpass.getuser() or "operator"
    except (KeyError, OSError):  # no login name (e.g. a container without /etc/passwd entry)
        return "operator"


def _invitation_dict(invitation) -> dict[str, Any]:
    """What an operator sees: everything but the secret's hash."""
    _, context = services()
    return {
        "id": invitation.id,
        "api_id": invitation.public_id,
        "email": invitation.email,
        "kind": invitation.kind,
        "state": invitation.state_at(context.clock()).value,
        "given_name": invitation.given_name,
        "family_name": invitation.family_name,
        "locale": invitation.locale,
        "inviter_name": invitation.inviter_name,
        "purpose": invitation.purpose,
        "created_by": f"{invitation.created_by_kind}:{invitation.created_by_id}",
        "client_id": invitation.client_id,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "accepted_at": invitation.accepted_at,
        "revoked_at": invitation.revoked_at,
        "last_sent_at": invitation.last_sent_at,
        "send_count": invitation.send_count,
    }


def _secret_for_operator(invitation, plain_secret: str) -> str:
    """The sign-up link (link kind) or the code (code kind), as the person would use it."""
    from idp.invitations.mailing import invitation_link

    _, context = services()
    return invitation_link(context.settings, plain_secret) if invitation.kind == "link" else plain_secret


def _send_now(invitation, plain_secret: str) -> str:
    """Queue the email, commit, then send it at once. Returns what happened, in words."""
    from idp.extensions import db as database
    from idp.mail.delivery import deliver, get_mail_service
    from idp.mail.services import QUEUED_IDS

    message = invitation_service().send(invitation, plain_secret, get_mail_service())
    database.session.commit()
    database.session.info.pop(QUEUED_IDS, None)
    if message is None:
        return "not sent: the per-address sending cap was reached (MAIL_MAX_PER_ADDRESS_PER_HOUR)"
    sent, _failed = deliver([message.id])
    if sent:
        return "sent"
    return "queued: the SMTP server did not take it; `idp mail send-pending` retries"


def _report(invitation, plain_secret: str | None, email_status: str, show_secret: bool, as_json: bool) -> None:
    data = _invitation_dict(invitation)
    data["email_status"] = email_status
    if show_secret and plain_secret is not None:
        data["secret"] = _secret_for_operator(invitation, plain_secret)
    if as_json:
        print_json(data)
        return
    click.echo(f"invitation {data['id']} for {data['email']}: {data['state']}, {data['kind']}, "
               f"expires {data['expires_at'].isoformat()}")
    click.echo(f"email {email_status}")
    if "secret" in data:
        label = "sign-up link" if invitation.kind == "link" else "code"
        click.echo(f"{label}  {data['secret']}")
        click.echo("Hand it over yourself only if needed: it cannot be shown again (resend makes a new one).")


class _Failed(click.ClickException):
    """An invitation error as a one-line message and exit status 1."""


def _fail(error: Exception) -> _Failed:
    from idp.extensions import db as database

    database.session.rollback()
    return _Failed(error_message(error))


@click.group()
def invitations() -> None:
    """Invite people to register (registration is by invitation only)."""


@invitations.command("create")
@click.option("--email", required=True, help="The address invited; only it can register with the invitation.")
@click.option("--kind", type=click.Choice(["link", "code"]), required=True,
              help="link: a Sign up button; code: a code typed on the registration page.")
@click.option("--given-name", help="Prefills the registration form.")
@click.option("--family-name", help="Prefills the registration form.")
@click.option("--locale", type=click.Choice(["fr", "en"]), help="Language of the email. Default: BABEL_DEFAULT_LOCALE.")
@click.option("--inviter", help="Who invites, shown in the email. Default: INVITATION_DEFAULT_INVITER.")
@click.option("--purpose", help="Why, one sentence shown in the email.")
@click.option("--client", "client_id", help="client_id of the relying party the person goes to after registering.")
@click.option("--created-by", help="Operator name recorded with the invitation. Default: your login name.")
@click.option("--show-secret", is_flag=True, help="Also print the sign-up link or code (shown only now).")
@click.option("--no-email", is_flag=True, help="Do not send the email (needs --show-secret).")
@json_option
@in_app
def invitations_create(email, kind, given_name, family_name, locale, inviter, purpose, client_id, created_by,
                       show_secret, no_email, as_json) -> None:
    """Create an invitation and email it now. The secret is not printed unless asked."""
    from idp.extensions import db as database
    from idp.invitations.errors import InvitationError
    from idp.oidc.clients import ClientService

    if no_email and not show_secret:
        raise click.UsageError("--no-email needs --show-secret: otherwise nobody could ever use the invitation")
    session, context = services()
    if client_id:
        ClientService(session, context.settings, context.clock, context.hasher).get(client_id)
    try:
        invitation, plain_secret = invitation_service().create(
            email=email, kind=kind, given_name=given_name, family_name=family_name, locale=locale,
            inviter_name=inviter or context.settings.INVITATION_DEFAULT_INVITER, purpose=purpose,
            created_by_kind="operator", created_by_id=created_by or _operator_name(), client_id=client_id,
        )
    except InvitationError as error:
        raise _fail(error) from None
    if no_email:
        database.session.commit()
        status = "not sent (--no-email)"
    else:
        status = _send_now(invitation, plain_secret)
    _report(invitation, plain_secret, status, show_secret, as_json)


@invitations.command("list")
@click.option("--state", type=click.Choice(["pending", "accepted", "expired", "revoked"]))
@click.option("--email", help="Only invitations to this address.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
@in_app
def invitations_list(state, email, limit, as_json) -> None:
    """List invitations, newest first."""
    found = invitation_service().list(state=state, email=email, limit=limit)
    rows = [_invitation_dict(invitation) for invitation in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no invitations")
    for row in rows:
        click.echo(f"{row['id']:>6} {row['state']:9} {row['kind']:5} {row['expires_at'].date().isoformat()} "
                   f"{row['created_by']:30} {row['email']}")


@invitations.command("show")
@click.argument("invitation_id", type=int)
@json_option
@in_app
def invitations_show(invitation_id, as_json) -> None:
    """Show one invitation."""
    from idp.invitations.errors import InvitationError

    try:
        data = _invitation_dict(invitation_service().get(invitation_id))
    except InvitationError as error:
        raise _fail(error) from None
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        shown = "-" if value is None else value.isoformat() if hasattr(value, "isoformat") else value
        click.echo(f"{key:14} {shown}")


@invitations.command("revoke")
@click.argument("invitation_id", type=int)
@json_option
@in_app
def invitations_revoke(invitation_id, as_json) -> None:
    """Revoke an invitation: its link or code stops working at once."""
    from idp.extensions import db as database
    from idp.invitations.errors import InvitationError

    try:
        invitation = invitation_service().revoke(invitation_id)
    except InvitationError as error:
        raise _fail(error) from None
    database.session.commit()
    if as_json:
        print_json(_invitation_dict(invitation))
    else:
        click.echo(f"revoked invitation {invitation.id} for {invitation.email}")


@invitations.command("resend")
@click.argument("invitation_id", type=int)
@click.option("--show-secret", is_flag=True, help="Also print the new sign-up link or code.")
@json_option
@in_app
def invitations_resend(invitation_id, show_secret, as_json) -> None:
    """Send a pending or expired invitation again, with a new link or code valid for
    INVITATION_TTL from now; the previous link or code stops working."""
    from idp.invitations.errors import InvitationError

    try:
        invitation, plain_secret = invitation_service().resend(invitation_id)
    except InvitationError as error:
        raise _fail(error) from None
    status = _send_now(invitation, plain_secret)
    _report(invitation, plain_secret, status, show_secret, as_json)
