"""`idp users`: create accounts (AccountService); passwords arrive on stdin only."""

from __future__ import annotations

import sys

import click

from idp.cli.base import in_app, json_option, print_json, services


def account_service():
    from idp.accounts.services import AccountService

    session, context = services()
    return AccountService(session, context.settings, context.clock, context.passwords)


@click.group()
def users() -> None:
    """Manage people's accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (required).")
@json_option
@in_app
def users_create(email: str, given_name: str, family_name: str, password_stdin: bool, as_json: bool) -> None:
    """Create an account. The password comes on stdin so it never shows in `ps` or shell history."""
    from idp.extensions import db as database

    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin")
    # Only the line ending is dropped: leading or trailing spaces may be part of a password.
    plain_password = sys.stdin.read().rstrip("\r\n")
    if not plain_password:
        raise click.ClickException("no password on standard input")
    user = account_service().create_user(email, given_name, family_name, plain_password)
    database.session.commit()
    if as_json:
        print_json({"id": user.id, "email": user.email, "subject": user.subject})
    else:
        click.echo(f"created {user.email} (id {user.id})")


@users.command("unlock")
@click.argument("email")
@json_option
@in_app
def users_unlock(email: str, as_json: bool) -> None:
    """End the sign-in lock of the account at EMAIL (issue 9): after repeated temporary locks
    an account waits for its emailed unlock link or for this. The failure count starts from
    zero; nobody is signed in, and any unlock link already sent stops working."""
    from idp.accounts.unlock import UnlockService
    from idp.extensions import db as database

    session, context = services()
    user, was_waiting = UnlockService(session, context.settings, context.clock, context.hasher).unlock_by_operator(email)
    database.session.commit()
    if as_json:
        print_json({"id": user.id, "email": user.email, "was_locked": was_waiting})
    elif was_waiting:
        click.echo(f"unlocked {user.email} (id {user.id})")
    else:
        click.echo(f"{user.email} (id {user.id}) was not waiting for an unlock; its failure count is reset")


def find_account(email: str):
    user = account_service().find_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with the email address {email!r}")
    return user


@users.command("disable")
@click.option("--email", required=True)
@in_app
def users_disable(email: str) -> None:
    """Disable an account: it cannot sign in, and every session and every token issued to
    it (offline_access included) ends now. Enabling it again brings none of them back."""
    from idp.audit import EventTag, record_event
    from idp.extensions import db as database
    from idp.oidc.revocation import end_all_access
    from idp.signin.sessions import SessionService

    session, context = services()
    user = find_account(email)
    user.disabled_at = user.disabled_at or context.clock()
    ended = end_all_access(SessionService(session, context.settings, context.clock, context.hasher), user.id)
    record_event(session, context.clock, EventTag.ACCOUNT_DISABLED, user_id=user.id, by="operator", sessions_ended=ended)
    database.session.commit()
    click.echo(f"disabled {user.email}: {ended} session(s) and every token ended")


@users.command("sign-out")
@click.option("--email", required=True)
@in_app
def users_sign_out(email: str) -> None:
    """End every session of an account now (a lost or shared device); each relying party
    those sessions signed into gets a back-channel logout token from `idp worker`. Grants
    with offline_access live on: `idp users disable` ends those too."""
    from idp.audit import EventTag, record_event
    from idp.extensions import db as database
    from idp.signin.sessions import SessionService

    session, context = services()
    user = find_account(email)
    ended = SessionService(session, context.settings, context.clock, context.hasher).end_all_for_user(user.id)
    record_event(session, context.clock, EventTag.SESSIONS_ENDED, user_id=user.id, by="operator", count=ended)
    database.session.commit()
    click.echo(f"signed out {user.email}: {ended} session(s) ended; relying parties are told by `idp worker`")


@users.command("enable")
@click.option("--email", required=True)
@in_app
def users_enable(email: str) -> None:
    """Let a disabled account sign in again (nothing it held before comes back)."""
    from idp.audit import EventTag, record_event
    from idp.extensions import db as database

    session, context = services()
    user = find_account(email)
    was_disabled = user.disabled_at is not None
    user.disabled_at = None
    if was_disabled:
        record_event(session, context.clock, EventTag.ACCOUNT_ENABLED, user_id=user.id, by="operator")
    database.session.commit()
    click.echo(f"enabled {user.email}")


def role_service():
    from idp.console.roles import RoleService

    session, context = services()
    return RoleService(session, context.clock)


@users.command("grant")
@click.argument("role", type=click.Choice(["operator", "service_desk"]))
@click.argument("email")
@in_app
def users_grant(role: str, email: str) -> None:
    """Give the account at EMAIL a console role (issue 16): `operator` (the whole console) or
    `service_desk` (people only). Only this command grants roles, never the console; the
    agent then needs a security key or passkey to open /admin."""
    from idp.extensions import db as database

    user = find_account(email)
    granted = role_service().grant(user, role)
    database.session.commit()
    click.echo(f"granted {role} to {user.email}" if granted else f"{user.email} already holds {role}")


@users.command("revoke")
@click.argument("role", type=click.Choice(["operator", "service_desk"]))
@click.argument("email")
@in_app
def users_revoke(role: str, email: str) -> None:
    """Take a console role back; an open console session ends at its next page."""
    from idp.extensions import db as database

    user = find_account(email)
    revoked = role_service().revoke(user, role)
    database.session.commit()
    click.echo(f"revoked {role} from {user.email}" if revoked else f"{user.email} did not hold {role}")
