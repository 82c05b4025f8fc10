"""`python -m clients.document_portal`: db upgrade through its own migrations on a fresh
SQLite file, demo pki writing a settings file the portal starts with, and a clear refusal
without settings."""

from __future__ import annotations

import os
import tomllib

from sqlalchemy import create_engine, inspect

from clients.document_portal.__main__ import main

ENVIRON = {"DOCUMENT_PORTAL_ISSUER": "http://127.0.0.1:5000", "DOCUMENT_PORTAL_CLIENT_ID": "document-portal",
           "DOCUMENT_PORTAL_CLIENT_SECRET": "s", "DOCUMENT_PORTAL_BASE_URL": "http://127.0.0.1:5004",
           "DOCUMENT_PORTAL_SECRET_KEY": "k" * 40}


def run_with(environ: dict[str, str], argv: list[str]) -> int:
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("DOCUMENT_PORTAL_")]:
        del os.environ[name]
    os.environ.update(environ)
    try:
        return main(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_demo_pki_and_db_upgrade_make_a_portal_that_starts(tmp_path):
    config = tmp_path / "document-portal.toml"
    assert run_with({}, ["demo", "pki", "--directory", str(tmp_path / "pki"), "--config", str(config),
                         "--organization-number", "E000000000001"]) == 0
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    assert "E000000000001" in settings["DOCUMENT_PORTAL_SIGNERS"] and settings["DOCUMENT_PORTAL_TRUST_ROOTS"]
    database = tmp_path / "portal.db"
    environ = {**ENVIRON, "DOCUMENT_PORTAL_CONFIG": str(config),
               "DOCUMENT_PORTAL_DATABASE_URL": f"sqlite:///{database}"}
    assert run_with(environ, ["db", "upgrade"]) == 0
    assert run_with(environ, ["db", "upgrade"]) == 0  # again: nothing to do
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert "documents" in inspect(connection).get_table_names()
    engine.dispose()
    assert run_with(environ, ["nonsense"]) == 2


def test_the_command_refuses_to_start_without_its_settings(capsys):
    assert run_with({}, ["run"]) == 2
    assert "missing settings: DOCUMENT_PORTAL_ISSUER" in capsys.readouterr().err


def test_demo_issue_gives_the_demo_user_one_transcript_through_passerelle(live_server, tmp_path):
    from sqlalchemy import select

    from clients.document_portal.db import db as portal_db
    from clients.document_portal.demo import issue_demo_document
    from clients.document_portal.documents.models import Document
    from clients.document_portal.issuing.services import Staff
    from clients.document_portal.issuing.views import get_issuing_service
    from clients.document_portal.signing.demo_pki import make_demo_pki
    from tests.document_portal_support import SCHOOL_NUMBER, build_document_portal, register_document_portal

    portal = build_document_portal(live_server.url, register_document_portal(live_server.app), tmp_path / "demo.db",
                                   make_demo_pki(tmp_path / "pki"))
    staff = Staff(sub="idp-demo", organization_id="org-demo", organization_number=SCHOOL_NUMBER,
                  organization_name_fr="École Imaginaire", organization_name_en="Imaginary School")
    for _ in range(2):  # make run runs it at every start: one document, once
        with portal.test_request_context():
            issue_demo_document(get_issuing_service(), staff, "demo@passerelle.test", wait_seconds=0)
            portal_db.session.commit()
    with portal.app_context():
        [document] = portal_db.session.scalars(select(Document)).all()
        assert document.learner_email == "demo@passerelle.test" and document.kind == "transcript"
        assert document.invitation_id and document.issuer_name_fr == "École Imaginaire"


def test_the_demo_issue_command_runs_as_make_run_calls_it(live_server, tmp_path):
    from tests.document_portal_support import register_document_portal

    registration = register_document_portal(live_server.app)
    config = tmp_path / "document-portal.toml"
    assert run_with({}, ["demo", "pki", "--directory", str(tmp_path / "pki"), "--config", str(config),
                         "--organization-number", "E000000000001"]) == 0
    environ = {**ENVIRON, "DOCUMENT_PORTAL_ENV": "development", "DOCUMENT_PORTAL_ISSUER": live_server.url,
               "DOCUMENT_PORTAL_CLIENT_ID": registration.client_id,
               "DOCUMENT_PORTAL_CLIENT_SECRET": registration.client_secret,
               "DOCUMENT_PORTAL_CONFIG": str(config), "DOCUMENT_PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    assert run_with(environ, ["db", "upgrade"]) == 0
    demo = ["demo", "issue", "--email", "demo@passerelle.test", "--organization-id", "org-demo",
            "--organization-number", "E000000000001", "--organization-name-fr", "École Imaginaire",
            "--organization-name-en", "Imaginary School"]
    assert run_with(environ, demo) == 0
    assert run_with({**environ, "DOCUMENT_PORTAL_ENV": "production"}, demo) == 2  # development only
