"""`idp users grant|revoke ROLE EMAIL` (issue 16): the only way to give or take a console
role, each an audit event."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.cli import main
from idp.console.models import AccountRole
from idp.extensions import db
from tests.console_support import make_agent


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)


def test_grant_then_revoke_a_role(app):
    user_id = make_agent(app, "agent@example.ca", None)
    result = run(app, "users", "grant", "service_desk", "Agent@Example.ca")
    assert result.exit_code == 0 and "granted service_desk to agent@example.ca" in result.output
    assert "already holds" in run(app, "users", "grant", "service_desk", "agent@example.ca").output
    with app.app_context():
        assert list(db.session.scalars(select(AccountRole.role).where(AccountRole.user_id == user_id))) == ["service_desk"]
    assert "revoked service_desk" in run(app, "users", "revoke", "service_desk", "agent@example.ca").output
    with app.app_context():
        assert db.session.scalar(select(AccountRole)) is None
        tags = list(db.session.scalars(select(SecurityEvent.tag).where(SecurityEvent.tag.like("console:role:%"))))
        assert tags == [EventTag.CONSOLE_ROLE_GRANTED, EventTag.CONSOLE_ROLE_REVOKED]


def test_unknown_role_or_person_is_a_clear_error(app):
    make_agent(app, "agent@example.ca", None)
    assert run(app, "users", "grant", "admin", "agent@example.ca").exit_code == 2
    result = run(app, "users", "grant", "operator", "nobody@example.ca")
    assert result.exit_code == 1 and "no account" in result.output
