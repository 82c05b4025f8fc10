"""`idp invitations` and the client options it relies on, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from idp.cli import main
from idp.extensions import db
from idp.invitations.models import Invitation
from idp.mail.models import OutboxMessage
from tests.mail_support import text_body


@pytest.fixture
def idp(app):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), obj=app, catch_exceptions=False)

    return run


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_invitations_command_has_help(idp):
    for args in (["invitations"], ["invitations", "create"], ["invitations", "list"], ["invitations", "show"],
                 ["invitations", "revoke"], ["invitations", "resend"], ["clients", "update"]):
        result = idp(*args, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_create_sends_the_email_now_and_never_prints_the_secret(app, idp, mailbox):
    created = _json(idp("invitations", "create", "--email", "Zoe@Example.ca", "--kind", "link", "--given-name", "Zoé",
                        "--family-name", "Citoyenne", "--locale", "en", "--inviter", "École Imaginaire",
                        "--purpose", "A transcript was sent to you.", "--created-by", "ana", "--json"))
    assert created["email"] == "zoe@example.ca" and created["state"] == "pending" and created["kind"] == "link"
    assert created["email_status"] == "sent"
    assert created["created_by"] == "operator:ana"
    assert "secret" not in created
    message = mailbox.wait_for("zoe@example.ca")
    assert message["Subject"] == "École Imaginaire invites you to create your Passerelle account"
    link = next(line for line in text_body(message).splitlines() if "/register/invitation/" in line)
    assert link.rsplit("/", 1)[1] not in json.dumps(created)
    with app.app_context():
        assert db.session.query(OutboxMessage).one().sent_at is not None


def test_create_text_output_names_id_state_and_expiry(idp, mailbox):
    result = idp("invitations", "create", "--email", "zoe@example.ca", "--kind", "code")
    assert result.exit_code == 0
    assert "invitation 1 for zoe@example.ca: pending, code, expires" in result.output
    assert "email sent" in result.output
    assert "code  " not in result.output


def test_defaults_inviter_locale_and_creator(app, idp, mailbox, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops-night")
    created = _json(idp("invitations", "create", "--email", "zoe@example.ca", "--kind", "link", "--json"))
    assert (created["inviter_name"], created["locale"], created["created_by"]) == ("Passerelle", "fr", "operator:ops-night")
    assert mailbox.wait_for("zoe@example.ca")["Content-Language"] == "fr"


def test_show_secret_prints_the_link_or_code_once(idp, mailbox):
    link = _json(idp("invitations", "create", "--email", "a@example.ca", "--kind", "link", "--show-secret", "--json"))
    assert link["secret"].startswith("http://127.0.0.1:5000/register/invitation/")
    assert link["secret"] in text_body(mailbox.wait_for("a@example.ca"))
    code = _json(idp("invitations", "create", "--email", "b@example.ca", "--kind", "code", "--show-secret", "--json"))
    assert len(code["secret"]) == 19 and code["secret"] in text_body(mailbox.wait_for("b@example.ca"))
    shown = idp("invitations", "show", str(code["id"]), "--json")
    assert code["secret"] not in shown.output


def test_no_email_needs_show_secret_and_sends_nothing(app, idp, mailbox):
    refused = idp("invitations", "create", "--email", "a@example.ca", "--kind", "link", "--no-email")
    assert refused.exit_code != 0 and "--show-secret" in refused.output
    created = _json(idp("invitations", "create", "--email", "a@example.ca", "--kind", "code", "--no-email",
                        "--show-secret", "--json"))
    assert created["email_status"].startswith("not sent")
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 0
        assert db.session.query(Invitation).one().send_count == 0


def test_smtp_down_keeps_the_email_queued(app, idp):
    """The invitation is kept and its email waits in the outbox for `idp mail send-pending`."""
    from idp.config import Settings
    from tests.support import free_port

    context = app.extensions["idp"]  # point the app at a port nobody listens on
    context.settings = Settings({**dict(context.settings), "SMTP_PORT": free_port()})
    created = _json(idp("invitations", "create", "--email", "zoe@example.ca", "--kind", "link", "--json"))
    assert created["email_status"].startswith("queued")
    with app.app_context():
        message = db.session.query(OutboxMessage).one()
        assert message.sent_at is None and message.attempts == 1


def test_create_for_a_client_needs_a_known_client(idp, app, mailbox):
    from tests.oidc_support import make_client

    unknown = idp("invitations", "create", "--email", "a@example.ca", "--kind", "link", "--client", "nobody")
    assert unknown.exit_code == 1 and "nobody" in unknown.output and "Traceback" not in unknown.output
    rp = make_client(app, initiate_login_uri="https://rp.example/login")
    created = _json(idp("invitations", "create", "--email", "a@example.ca", "--kind", "link", "--client", rp.client_id,
                        "--json"))
    assert created["client_id"] == rp.client_id and created["created_by"].startswith("operator:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not an address", "--kind", "link"], "email"),
        (["--email", "a@example.ca", "--kind", "pigeon"], "pigeon"),
        (["--email", "a@example.ca", "--kind", "link", "--locale", "de"], "de"),
        (["--email", "a@example.ca", "--kind", "link", "--given-name", "x" * 201], "given_name"),
        (["--email", "a@example.ca", "--kind", "link", "--purpose", "y" * 501], "purpose"),
        (["--email", "a@example.ca", "--kind", "link", "--inviter", "   "], "inviter_name"),
        (["--kind", "link"], "--email"),
    ],
)
def test_create_refuses_bad_input_with_a_message(app, idp, args, message):
    result = idp("invitations", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.query(Invitation).count() == 0


def test_list_filters_and_shows_states(idp, clock, mailbox):
    first = _json(idp("invitations", "create", "--email", "a@example.ca", "--kind", "link", "--json"))
    second = _json(idp("invitations", "create", "--email", "b@example.ca", "--kind", "code", "--json"))
    idp("invitations", "revoke", str(first["id"]))
    listed = _json(idp("invitations", "list", "--json"))
    assert [(row["id"], row["state"]) for row in listed] == [(second["id"], "pending"), (first["id"], "revoked")]
    assert [row["id"] for row in _json(idp("invitations", "list", "--state", "revoked", "--json"))] == [first["id"]]
    assert [row["id"] for row in _json(idp("invitations", "list", "--email", "B@example.ca", "--json"))] == [second["id"]]
    text = idp("invitations", "list").output
    assert "revoked" in text and "b@example.ca" in text
    clock.advance(days=15)
    assert [row["state"] for row in _json(idp("invitations", "list", "--json"))] == ["expired", "revoked"]
    assert "no invitations" in idp("invitations", "list", "--state", "accepted").output


def test_revoke_and_resend(app, idp, mailbox, clock):
    created = _json(idp("invitations", "create", "--email", "zoe@example.ca", "--kind", "link", "--show-secret", "--json"))
    first_mail = text_body(mailbox.wait_for("zoe@example.ca"))
    mailbox.clear()
    clock.advance(days=20)
    resent = _json(idp("invitations", "resend", str(created["id"]), "--show-secret", "--json"))
    assert resent["state"] == "pending" and resent["send_count"] == 2
    assert resent["secret"] != created["secret"]
    second_mail = text_body(mailbox.wait_for("zoe@example.ca"))
    assert resent["secret"] in second_mail and created["secret"] not in second_mail
    assert created["secret"] in first_mail
    revoked = idp("invitations", "revoke", str(created["id"]))
    assert revoked.exit_code == 0 and "revoked invitation" in revoked.output
    again = idp("invitations", "resend", str(created["id"]))
    assert again.exit_code == 1 and "revoked" in again.output.lower() and "Traceback" not in again.output


@pytest.mark.parametrize("command", ["show", "revoke", "resend"])
def test_unknown_invitation_exits_1_with_a_message(idp, command):
    result = idp("invitations", command, "999")
    assert result.exit_code == 1
    assert "No invitation" in result.output
    assert "Traceback" not in result.output


def test_non_numeric_id_is_a_usage_error(idp):
    result = idp("invitations", "revoke", "abc")
    assert result.exit_code == 2 and "Traceback" not in result.output


# Clients: the invitations scope and initiate_login_uri


def test_clients_create_with_initiate_login_uri_and_the_invitations_scope(idp):
    created = _json(idp("clients", "create", "--name", "École", "--grant-type", "client_credentials",
                        "--scope", "openid invitations", "--initiate-login-uri", "https://portal.example.ca/login", "--json"))
    shown = _json(idp("clients", "show", "--json", created["client_id"]))
    assert shown["initiate_login_uri"] == "https://portal.example.ca/login"
    assert shown["scope"] == "openid invitations"
    assert "https://portal.example.ca/login" in idp("clients", "show", "--", created["client_id"]).output


@pytest.mark.parametrize("uri", ["http://portal.example.ca/login", "javascript:alert(1)", "https://x/#frag", "not a uri"])
def test_clients_create_refuses_an_unsafe_initiate_login_uri(idp, uri):
    result = idp("clients", "create", "--name", "École", "--redirect-uri", "https://portal.example.ca/cb",
                 "--initiate-login-uri", uri)
    assert result.exit_code == 1 and "initiate_login_uri" in result.output


def test_clients_update_scope_and_initiate_login_uri(idp):
    client_id = _json(idp("clients", "create", "--name", "École", "--redirect-uri", "https://portal.example.ca/cb",
                          "--json"))["client_id"]
    updated = _json(idp("clients", "update", "--scope", "openid email invitations",
                        "--initiate-login-uri", "http://127.0.0.1:5001/login", "--json", "--", client_id))
    assert updated["scope"] == "openid email invitations"
    assert updated["initiate_login_uri"] == "http://127.0.0.1:5001/login"
    cleared = _json(idp("clients", "update", "--initiate-login-uri", "", "--json", "--", client_id))
    assert cleared["initiate_login_uri"] is None
    assert idp("clients", "update", "--", client_id).exit_code == 2
    bad = idp("clients", "update", "--scope", "openid admin", "--", client_id)
    assert bad.exit_code == 1 and "admin" in bad.output
