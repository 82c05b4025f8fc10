"""The `idp` command line through click's CliRunner, on the test app's real database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from idp.cli import main
from idp.context import app_context
from idp.extensions import db
from idp.oidc.clients import ClientService
from idp.oidc.models import Client

WEB = "https://portal.example.ca/callback"


@pytest.fixture
def idp(app):
    """Run `idp ARGS...` against the test app; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), obj=app, input=input, catch_exceptions=False)

    return run


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _client_service(app):
    context = app_context()
    return ClientService(db.session, context.settings, context.clock, context.hasher)


def test_every_command_has_help(idp):
    for args in (
        [], ["db"], ["db", "upgrade"], ["clients"], ["clients", "create"], ["clients", "list"],
        ["clients", "show"], ["clients", "delete"], ["clients", "rotate-secret"], ["users"],
        ["users", "create"], ["keys"], ["keys", "list"], ["keys", "rotate"], ["demo"],
    ):
        result = idp(*args, "--help")
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output


def test_clients_create_json_prints_id_and_secret_once(app, idp):
    created = _json(idp("clients", "create", "--name", "Portal", "--redirect-uri", WEB, "--json"))
    assert set(created) == {"client_id", "client_secret"}
    with app.app_context():
        client = _client_service(app).get(created["client_id"])
        assert client.secret_hash != created["client_secret"]
        assert _client_service(app).is_secret_valid(client, created["client_secret"])
    shown = idp("clients", "show", created["client_id"], "--json")
    assert created["client_secret"] not in shown.output
    assert "secret_hash" not in shown.output


def test_clients_create_text_output_names_the_secret(idp):
    result = idp("clients", "create", "--name", "Portal", "--redirect-uri", WEB)
    assert result.exit_code == 0
    assert "client_id" in result.output and "client_secret" in result.output


def test_clients_create_with_every_option(idp, tmp_path):
    from joserfc.jwk import ECKey

    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}))
    created = _json(
        idp(
            "clients", "create", "--name", "Backend", "--redirect-uri", WEB,
            "--redirect-uri", "https://portal.example.ca/other",
            "--post-logout-redirect-uri", "https://portal.example.ca/",
            "--grant-type", "authorization_code", "--grant-type", "client_credentials",
            "--auth-method", "private_key_jwt", "--jwks-file", str(jwks_file),
            "--subject-type", "public", "--require-consent", "--id-token-alg", "RS256",
            "--client-id", "backend", "--min-acr", "urn:passerelle:acr:mfa", "--json",
        )
    )
    assert created == {"client_id": "backend", "client_secret": None}
    shown = _json(idp("clients", "show", "backend", "--json"))
    assert shown["redirect_uris"] == [WEB, "https://portal.example.ca/other"]
    assert shown["grant_types"] == ["authorization_code", "client_credentials"]
    assert shown["subject_type"] == "public" and shown["require_consent"] is True
    assert shown["id_token_signed_response_alg"] == "RS256"
    assert shown["token_endpoint_auth_method"] == "private_key_jwt"
    assert shown["min_acr"] == "urn:passerelle:acr:mfa"


def test_public_flag_makes_a_secretless_client(idp):
    created = _json(idp("clients", "create", "--name", "App", "--redirect-uri", WEB, "--public", "--json"))
    assert created["client_secret"] is None
    shown = _json(idp("clients", "show", created["client_id"], "--json"))
    assert shown["is_public"] is True and shown["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--redirect-uri", "http://portal.example.ca/cb"], "https"),
        (["--redirect-uri", "javascript:alert(1)"], "https"),
        (["--redirect-uri", "https://portal.example.ca/cb#x"], "fragment"),
        ([], "redirect URI"),
        (["--redirect-uri", WEB, "--public", "--grant-type", "client_credentials"], "client_credentials"),
        (["--redirect-uri", WEB, "--grant-type", "password"], "password"),
    ],
)
def test_clients_create_refuses_bad_input_with_a_message(app, idp, args, message):
    result = idp("clients", "create", "--name", "Bad", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.query(Client).count() == 0


def test_clients_list_show_delete(idp):
    first = _json(idp("clients", "create", "--name", "One", "--redirect-uri", WEB, "--json"))["client_id"]
    second = _json(idp("clients", "create", "--name", "Two", "--redirect-uri", WEB, "--json"))["client_id"]
    listed = _json(idp("clients", "list", "--json"))
    assert [client["client_id"] for client in listed] == [first, second]
    assert "One" in idp("clients", "list").output
    assert first in idp("clients", "show", first).output
    result = idp("clients", "delete", first, "--yes")
    assert result.exit_code == 0
    assert [client["client_id"] for client in _json(idp("clients", "list", "--json"))] == [second]


@pytest.mark.parametrize("command", ["show", "delete", "rotate-secret"])
def test_unknown_client_exits_non_zero_with_a_message(idp, command):
    result = idp("clients", command, "nobody")
    assert result.exit_code == 1
    assert "no client with client_id 'nobody'" in result.output


def test_rotate_secret_invalidates_the_old_secret(app, idp):
    created = _json(idp("clients", "create", "--name", "P", "--redirect-uri", WEB, "--json"))
    rotated = _json(idp("clients", "rotate-secret", created["client_id"], "--json"))
    assert rotated["client_secret"] != created["client_secret"]
    with app.app_context():
        service = _client_service(app)
        client = service.get(created["client_id"])
        assert service.is_secret_valid(client, rotated["client_secret"])
        assert not service.is_secret_valid(client, created["client_secret"])


def test_users_create_reads_the_password_from_stdin(app, idp):
    result = idp(
        "users", "create", "--email", "Ana@Example.ca", "--given-name", "Ana", "--family-name", "Tremblay",
        "--password-stdin", "--json", input="correct horse battery staple\n",
    )
    created = _json(result)
    assert created["email"] == "ana@example.ca"
    from idp.accounts.models import User

    with app.app_context():
        user = db.session.get(User, created["id"])
        assert app_context().passwords.verify(user.password_hash, "correct horse battery staple")


def test_users_create_without_password_is_refused(idp):
    result = idp("users", "create", "--email", "a@example.ca", "--given-name", "A", "--family-name", "B",
                 "--password-stdin", input="")
    assert result.exit_code != 0 and "password" in result.output


def test_users_create_duplicate_email_exits_with_a_message(idp):
    args = ("users", "create", "--email", "a@example.ca", "--given-name", "A", "--family-name", "B", "--password-stdin")
    assert idp(*args, input="pw-one\n").exit_code == 0
    result = idp(*args, input="pw-two\n")
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output


def test_keys_rotate_then_list(idp):
    rotated = _json(idp("keys", "rotate", "--now", "--json"))
    assert {key["alg"] for key in rotated} >= {"ES256"}
    listed = _json(idp("keys", "list", "--json"))
    assert {key["kid"] for key in rotated} <= {key["kid"] for key in listed}
    assert all(key["state"] == "signing" for key in listed if key["kid"] in {k["kid"] for k in rotated})
    assert "ES256" in idp("keys", "list").output


def test_demo_is_idempotent_and_prints_working_credentials(app, idp):
    first = _json(idp("demo", "--json"))
    second = _json(idp("demo", "--json"))
    assert first["client_id"] == second["client_id"] == "demo-rp"
    assert second["client_secret"] != first["client_secret"]
    with app.app_context():
        service = _client_service(app)
        client = service.get("demo-rp")
        assert client.redirect_uris == ["http://127.0.0.1:5001/callback"]
        assert client.post_logout_redirect_uris == ["http://127.0.0.1:5001/"]
        assert service.is_secret_valid(client, second["client_secret"])
        from idp.accounts.models import User

        users = db.session.query(User).filter_by(email="demo@passerelle.test").all()
        assert len(users) == 1
        assert app_context().passwords.verify(users[0].password_hash, second["password"])


PRODUCTION_SECRETS = {
    name: "test-only-value-long-enough-for-production-" + name
    for name in ("SECRET_KEY", "SECRETS_HASH_KEY", "KEYS_ENCRYPTION_KEY", "OIDC_PAIRWISE_SALT")
}


@pytest.mark.settings(ENV="production", SESSION_COOKIE_SECURE=True, **PRODUCTION_SECRETS)
def test_demo_refuses_production(idp):
    result = idp("demo")
    assert result.exit_code == 1 and "production" in result.output


def test_missing_tables_give_a_hint_not_a_traceback(app, idp):
    with app.app_context():
        db.drop_all()
    result = idp("clients", "list")
    assert result.exit_code == 1
    assert "idp db upgrade" in result.output


def test_db_upgrade_on_a_brand_new_sqlite_file_creates_its_folder(tmp_path, clock):
    from idp import create_app

    path = tmp_path / "var" / "nested" / "passerelle.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, clock=clock)
    result = CliRunner().invoke(main, ["db", "upgrade"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert path.exists()
    result = CliRunner().invoke(main, ["db", "current", "--json"], obj=app, catch_exceptions=False)
    assert json.loads(result.stdout)["revision"]
    with app.app_context():
        db.engine.dispose()


def test_invalid_configuration_is_reported_without_traceback(monkeypatch):
    monkeypatch.setenv("IDP_OIDC_ISSUER", "http://idp.example.ca")
    result = CliRunner().invoke(main, ["clients", "list"])
    assert result.exit_code == 1
    assert "configuration refused" in result.output and "https" in result.output


def test_db_upgrade_from_an_unknown_revision_explains_instead_of_crashing(app, idp):
    from sqlalchemy import text

    with app.app_context():
        db.drop_all()
    assert idp("db", "upgrade").exit_code == 0
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'deadbeef'"))
        db.session.commit()
    result = idp("db", "upgrade")
    assert result.exit_code == 1
    assert "deadbeef" in result.output and "Traceback" not in result.output
    with app.app_context():
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()


def test_an_unexpected_failure_is_one_line_not_a_traceback(app, idp, monkeypatch):
    from idp.oidc import clients as clients_module

    def broken(self):
        raise RuntimeError("disk on fire")

    monkeypatch.delenv("PASSERELLE_TRACEBACK", raising=False)
    monkeypatch.setattr(clients_module.ClientService, "list", broken)
    result = idp("clients", "list")
    assert result.exit_code == 1
    assert "unexpected RuntimeError: disk on fire" in result.output
    assert "Traceback" not in result.output
