"""Seed 001 end to end through the Flask test client: an operator creates a DLI (`idp orgs
create`), its primary user registers with the emailed invitation code, and is its primary
member. An address that already has an account is told, by email only, that the
institution needs another address; an invitation of a disabled organization completes
nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.orgs.models import Membership, Organization
from tests.integration.registration.support import EMAIL, invitation_code
from tests.integration.registration.test_code_journey import code_form_data, confirm_with_code
from tests.mail_support import code_in, text_body
from tests.orgs_support import make_user

NUMBER = "O123456789012"


@pytest.fixture
def idp(run_idp):
    """Runs a command that must succeed: its JSON, or its text."""

    def run(*args: str):
        result = run_idp(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if "--json" in args else result.output

    return run


def create_dli(idp, email: str = EMAIL, locale: str = "en") -> dict:
    return idp("orgs", "create", "--kind", "dli", "--number", NUMBER, "--name-fr", "Collège Imaginaire",
               "--name-en", "Imaginary College", "--primary-email", email, "--locale", locale, "--json")


def register(client, code: str, **overrides):
    page = client.get("/register/code")
    return client.post("/register/code", data=code_form_data(client, page, code, **overrides))


def test_the_primary_registers_with_the_emailed_code_and_is_the_primary_member(app, client, idp, mailbox):
    client.set_cookie("passerelle_lang", "en")
    created = create_dli(idp)
    sent = register(client, invitation_code(mailbox.wait_for(EMAIL)))
    assert sent.status_code == 303 and sent.headers["Location"] == "/register/confirm"
    done = confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=2)))
    assert done.status_code == 303 and done.headers["Location"] == "/register/confirmed"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        organization = db.session.get(Organization, membership.organization_id)
        assert user.is_active
        assert (organization.public_id, membership.role, membership.state) == (created["id"], "primary", "active")
        assert membership.invited_by_operator  # the operator's login name
    members = idp("orgs", "members", NUMBER, "--json")
    assert [(row["email"], row["role"]) for row in members] == [(EMAIL, "primary")]
    assert idp("orgs", "show", NUMBER, "--json")["pending_invitations"] == []


def test_a_secondary_invited_by_the_operator_joins_as_secondary(app, client, idp, mailbox):
    create_dli(idp, email="pat@example.ca")
    idp("orgs", "invite", NUMBER, "--email", EMAIL, "--locale", "en", "--json")
    register(client, invitation_code(mailbox.wait_for(EMAIL)))
    confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=2)))
    members = idp("orgs", "members", NUMBER, "--json")
    assert [(row["email"], row["role"]) for row in members] == [(EMAIL, "secondary")]


def test_an_address_with_an_account_is_told_by_email_that_the_institution_needs_another(app, client, idp, mailbox):
    client.set_cookie("passerelle_lang", "en")
    with app.app_context():
        make_user(EMAIL)
        db.session.commit()
    create_dli(idp)  # the operator learns nothing: the invitation is sent as usual
    invitation = mailbox.wait_for(EMAIL)
    assert "/register/code" in text_body(invitation)
    sent = register(client, invitation_code(invitation))
    assert sent.status_code == 303 and sent.headers["Location"] == "/register/confirm"  # the same page
    told = mailbox.wait_for(EMAIL, count=2)
    assert told["Subject"] == "Imaginary College needs another email address for you"
    assert "needs another email address for you" in text_body(told)
    with app.app_context():
        assert db.session.scalar(select(Membership)) is None
        templates = set(db.session.scalars(select(OutboxMessage.template)))
        assert "account-exists" not in templates and "registration-code" not in templates
    assert idp("orgs", "show", NUMBER, "--json")["pending_invitations"][0]["email"] == EMAIL  # still pending


def test_a_registration_completing_after_the_organization_was_disabled_is_refused(app, client, idp, mailbox):
    client.set_cookie("passerelle_lang", "en")
    create_dli(idp)
    register(client, invitation_code(mailbox.wait_for(EMAIL)))
    code = code_in(mailbox.wait_for(EMAIL, count=2))
    idp("orgs", "disable", NUMBER, "--json")
    refused = confirm_with_code(client, code)
    assert refused.status_code == 410 and "withdrew the invitation" in refused.text
    with app.app_context():
        assert db.session.scalar(select(Membership)) is None
        assert db.session.scalar(select(User).where(User.email == EMAIL)).is_pending


def test_registering_with_organization_a_code_joins_a_only_and_leaves_b_invitation_pending(app, client, idp, mailbox):
    client.set_cookie("passerelle_lang", "en")
    a = create_dli(idp)
    b = idp("orgs", "create", "--kind", "dli", "--number", "O222222222222", "--name-fr", "Cégep B",
            "--name-en", "B College", "--primary-email", EMAIL, "--locale", "en", "--json")
    first, second = mailbox.to(EMAIL)
    code_a = invitation_code(first if "Imaginary College" in first["Subject"] else second)
    sent = register(client, code_a)
    assert sent.status_code == 303, sent.text
    confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=3)))
    assert [row["email"] for row in idp("orgs", "members", a["id"], "--json")] == [EMAIL]
    assert idp("orgs", "members", b["id"], "--json") == []
    assert [row["email"] for row in idp("orgs", "show", b["id"], "--json")["pending_invitations"]] == [EMAIL]
