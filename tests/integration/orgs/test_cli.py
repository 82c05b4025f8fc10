"""`idp orgs` through click's CliRunner: every command with --json, emails sent at once,
clear one-line errors with exit status 1 or 2, never a traceback."""

from __future__ import annotations

import json

import pytest

from idp.extensions import db
from idp.invitations.models import Invitation
from tests.integration.registration.support import invitation_code
from tests.mail_support import text_body
from tests.orgs_support import join, org_service

NUMBER = "O123456789012"


@pytest.fixture
def idp(run_idp):
    return run_idp


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def create(idp, *extra, number=NUMBER, email="pat@example.ca"):
    return idp("orgs", "create", "--kind", "dli", "--number", number, "--name-fr", "Collège Imaginaire",
               "--name-en", "Imaginary College", "--primary-email", email, "--created-by", "ana", *extra)


def test_every_orgs_command_has_help(idp):
    for args in (["orgs"], ["orgs", "create"], ["orgs", "list"], ["orgs", "show"], ["orgs", "disable"],
                 ["orgs", "enable"], ["orgs", "members"], ["orgs", "invite"], ["orgs", "requests"],
                 ["orgs", "requests", "list"], ["orgs", "requests", "approve"], ["orgs", "requests", "reject"]):
        result = idp(*args, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_create_makes_the_organization_and_emails_the_primary_a_code(app, idp, mailbox):
    created = _json(create(idp, "--locale", "en", "--json", number="o123456789012", email="Pat@Example.ca"))
    assert created["number"] == NUMBER and created["kind"] == "dli" and created["state"] == "active"
    assert created["name"] == {"fr": "Collège Imaginaire", "en": "Imaginary College"}
    assert created["invitation"]["email"] == "pat@example.ca" and created["invitation"]["role"] == "primary"
    assert created["invitation"]["email_status"] == "sent"
    message = mailbox.wait_for("pat@example.ca")
    assert message["Subject"] == "Imaginary College invites you to create your Passerelle account"
    code = invitation_code(message)
    assert code not in json.dumps(created)
    assert "/register/code" in text_body(message)
    with app.app_context():
        invitation = db.session.get(Invitation, created["invitation"]["invitation_id"])
        assert invitation.organization_role == "primary"
        assert invitation.created_by_id == f"{created['id']}/operator:ana"


def test_list_show_members_invite(app, idp, mailbox):
    created = _json(create(idp, "--json"))
    text = idp("orgs", "list")
    assert text.exit_code == 0 and NUMBER in text.output and "Imaginary College" in text.output
    assert [row["id"] for row in _json(idp("orgs", "list", "--kind", "dli", "--json"))] == [created["id"]]
    assert _json(idp("orgs", "list", "--state", "disabled", "--json")) == []
    shown = _json(idp("orgs", "show", NUMBER, "--json"))
    assert shown["id"] == created["id"] and shown["primary_user"] is None
    assert [row["email"] for row in shown["pending_invitations"]] == ["pat@example.ca"]
    assert idp("orgs", "show", created["id"]).exit_code == 0
    with app.app_context():
        service = org_service()
        join(service, service.get(NUMBER), "pat@example.ca", "primary")
        db.session.commit()
    invited = _json(idp("orgs", "invite", NUMBER, "--email", "sam@example.ca", "--locale", "fr", "--json"))
    assert invited["role"] == "secondary" and invited["email_status"] == "sent"
    assert mailbox.wait_for("sam@example.ca")["Subject"].startswith("Collège Imaginaire")
    members = _json(idp("orgs", "members", NUMBER, "--json"))
    assert [(row["email"], row["role"], row["invited_by"]) for row in members] == [("pat@example.ca", "primary", "ana")]
    assert "primary" in idp("orgs", "members", NUMBER).output


def test_disable_and_enable(idp):
    _json(create(idp, "--json"))
    assert _json(idp("orgs", "disable", NUMBER, "--json"))["state"] == "disabled"
    assert _json(idp("orgs", "show", NUMBER, "--json"))["pending_invitations"] == []
    refused = idp("orgs", "invite", NUMBER, "--email", "sam@example.ca")
    assert refused.exit_code == 1 and "disabled" in refused.output and "Traceback" not in refused.output
    assert _json(idp("orgs", "enable", NUMBER, "--json"))["state"] == "active"


def test_requests_list_approve_reject(app, idp, mailbox):
    _json(create(idp, "--json"))
    with app.app_context():
        service = org_service()
        organization = service.get(NUMBER)
        _primary, pat = join(service, organization, "pat@example.ca", "primary")
        sam, _ = join(service, organization, "sam@example.ca", locale="en")
        lou, _ = join(service, organization, "lou@example.ca")
        removal = service.submit_request(organization.id, by_user_id=pat.id, kind="remove_secondary",
                                         reason="Sam est parti.", target_membership_id=sam.id)
        other = service.submit_request(organization.id, by_user_id=pat.id, kind="remove_secondary",
                                       reason="Lou est partie.", target_membership_id=lou.id)
        db.session.commit()
        ids = removal.id, other.id
    pending = _json(idp("orgs", "requests", "list", "--state", "pending", "--json"))
    assert [(row["id"], row["target"], row["requested_by"]) for row in pending] == [
        (ids[0], "sam@example.ca", "pat@example.ca"), (ids[1], "lou@example.ca", "pat@example.ca")]
    approved = _json(idp("orgs", "requests", "approve", str(ids[0]), "--reason", "Vérifié.", "--json"))
    assert approved["state"] == "approved" and approved["decision_reason"] == "Vérifié."
    assert approved["email_status"] == "sent"
    assert mailbox.wait_for("sam@example.ca")["Subject"] == "Request approved: Imaginary College"
    again = idp("orgs", "requests", "approve", str(ids[0]))
    assert again.exit_code == 1 and "already approved or rejected" in again.output
    rejected = idp("orgs", "requests", "reject", str(ids[1]), "--reason", "Pas de preuve.")
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    members = _json(idp("orgs", "members", NUMBER, "--all", "--json"))
    assert {row["email"]: row["state"] for row in members}["sam@example.ca"] == "ended"
    assert _json(idp("orgs", "requests", "list", "--organization", NUMBER, "--state", "pending", "--json")) == []


@pytest.mark.parametrize(("args", "status", "says"), [
    (["orgs", "show", "nope"], 1, "No organization has this id or number"),
    (["orgs", "members", "O000000000000"], 1, "No organization has this id or number"),
    (["orgs", "requests", "approve", "42"], 1, "No request has this id"),
    (["orgs", "requests", "reject", "x" * 40], 1, "No request has this id"),
    (["orgs", "requests", "reject", "a\x00b"], 1, "No request has this id"),
    (["orgs", "show", "a\x00b"], 1, "No organization has this id or number"),
    (["orgs", "create", "--kind", "dli", "--number", "12345", "--name-fr", "A", "--name-en", "A",
      "--primary-email", "a@example.ca"], 1, "a DLI number is the letter O and 12 digits"),
    (["orgs", "create", "--kind", "dli", "--number", NUMBER, "--name-fr", "<b>A</b>", "--name-en", "A",
      "--primary-email", "a@example.ca"], 1, "name_fr: markup characters"),
    (["orgs", "create", "--kind", "dli", "--number", NUMBER, "--name-fr", "A", "--name-en", "A",
      "--primary-email", "not-an-address"], 1, "email: not an email address"),
    (["orgs", "create", "--kind", "bank"], 2, "Invalid value for '--kind'"),
    (["orgs", "invite", NUMBER], 2, "Missing option '--email'"),
])
def test_errors_are_one_clear_line(idp, args, status, says):
    result = idp(*args)
    assert result.exit_code == status, result.output
    assert says in result.output and "Traceback" not in result.output


def test_a_duplicate_number_is_refused_and_nothing_is_sent(app, idp, mailbox):
    _json(create(idp, "--json"))
    again = create(idp, number="o123456789012", email="kim@example.ca")
    assert again.exit_code == 1 and "already has this number" in again.output
    assert mailbox.to("kim@example.ca") == []
    with app.app_context():
        assert db.session.query(Invitation).count() == 1


def test_a_failed_create_leaves_no_organization_behind(app, idp):
    result = create(idp, email="not an address")
    assert result.exit_code == 1
    assert _json(idp("orgs", "list", "--json")) == []
