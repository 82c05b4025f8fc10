"""The institution portal's pages on their own (Flask test client; discovery from a live
Passerelle where a page needs it): every page in French and English with a title, the
language toggle and help link, security headers, CSRF, cookie names, and clear error pages."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, inspect

from clients.demo_rp import SESSION_COOKIE_NAME as DEMO_RP_COOKIE
from clients.institution_portal.db import Base
from clients.institution_portal.migrations import upgrade
from tests.institution_portal_support import build_portal, register_portal


@pytest.fixture
def portal(live_server, tmp_path):
    return build_portal(live_server.url, register_portal(live_server.app), tmp_path / "portal.db")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ["Poursuivez vers un Partenaire de connexion", "Poursuivez vers Passerelle",
            "Aucun de vos renseignements ne sera divulgué au ministère",
            "Votre Partenaire de connexion ne saura pas quel service du gouvernement vous utilisez"]),
    ("en", ["Continue to a Sign-In Partner", "Continue to Passerelle", "None of your information will be shared"]),
])
def test_the_sign_in_page_offers_both_choices_in_both_languages(portal, language, words):
    response = portal.test_client().get("/login", headers={"Accept-Language": language})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f'<html lang="{language}">' in html and "<title>" in html
    for word in words:
        assert word in html
    assert 'hreflang="{}"'.format("en" if language == "fr" else "fr") in html and 'href="/help"' in html


@pytest.mark.parametrize("path", ["/login", "/help", "/signed-out", "/nowhere"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_public_page_renders_with_a_title_and_strict_headers(portal, live_server, path, language):
    response = portal.test_client().get(path, headers={"Accept-Language": language})
    assert response.status_code in (200, 404)
    html = response.get_data(as_text=True)
    assert re.search(r"<title>[^<]+ – [^<]+</title>", html) and f'<html lang="{language}">' in html
    assert "<script" not in html and "style=" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and f"form-action 'self' {live_server.url}" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"


def test_the_portal_cookie_is_its_own_httponly_lax_and_secure_outside_development(live_server, tmp_path):
    registration = register_portal(live_server.app)
    for env, secure in (("development", False), ("production", True)):
        portal = build_portal(live_server.url, registration, tmp_path / f"{env}.db", PORTAL_ENV=env)
        client = portal.test_client()
        page = client.get("/login")
        response = client.post("/login", data={"via": "passerelle", "csrf_token": csrf(page.get_data(as_text=True))})
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("institution_portal_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure
    assert "institution_portal_session" not in {live_server.app.config["SESSION_COOKIE_NAME"],
                                                live_server.app.config["LANGUAGE_COOKIE_NAME"], DEMO_RP_COOKIE}


def test_the_cookie_holds_no_token_verifier_or_nonce(portal):
    client = portal.test_client()
    page = client.get("/login")
    client.post("/login", data={"via": "passerelle", "csrf_token": csrf(page.get_data(as_text=True))})
    with client.session_transaction() as session:
        assert all(set(value) == {"exp"} for key, value in session.items() if key.startswith("_state_"))
        assert not {"code_verifier", "nonce", "id_token"} & set(str(dict(session)).split("'"))


def test_forms_without_a_csrf_token_are_a_clear_page(portal):
    client = portal.test_client()
    for path in ("/login", "/logout", "/terms"):
        response = client.post(path, data={"via": "passerelle", "decision": "accept"}, headers={"Accept-Language": "en"})
        assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)


def test_an_unknown_choice_is_refused(portal):
    client = portal.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"via": "somewhere", "csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 400


def test_pages_behind_sign_in_send_to_the_sign_in_page(portal):
    client = portal.test_client()
    for path in ("/", "/terms"):
        assert client.get(path).headers["Location"] == "/login"


def test_the_language_toggle_stays_on_site(portal):
    client = portal.test_client()
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"
    assert client.get("/lang/en?next=https://evil.example").headers["Location"] == "/"
    assert client.get("/lang/en?next=/help").headers["Location"] == "/help"
    assert '<html lang="en">' in client.get("/help", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_a_sign_out_response_we_did_not_start_is_refused(portal):
    response = portal.test_client().get("/signed-out?state=forged")
    assert response.status_code == 400 and 'id="refusal"' in response.get_data(as_text=True)


def test_migrations_build_the_tables_the_models_describe(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with engine.begin() as connection:
        upgrade(connection)
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert [difference for difference in differences
            if not (difference[0] == "remove_table" and difference[1].name == "institution_portal_alembic_version")] == []
    assert {"signin_states", "portal_sessions", "terms_acceptances", "institution_portal_alembic_version"} <= tables


def test_the_database_command_upgrades_through_the_migrations(tmp_path):
    from clients.institution_portal.__main__ import main

    path = tmp_path / "cli.db"
    environ = {"PORTAL_ISSUER": "http://127.0.0.1:5000", "PORTAL_CLIENT_ID": "institution-portal",
               "PORTAL_CLIENT_SECRET": "s", "PORTAL_BASE_URL": "http://127.0.0.1:5003",
               "PORTAL_SECRET_KEY": "k" * 40, "PORTAL_DATABASE_URL": f"sqlite:///{path}"}
    saved = dict(os.environ)
    os.environ.update(environ)
    try:
        assert main(["db", "upgrade"]) == 0
        assert main(["db", "upgrade"]) == 0  # again: nothing to do
        assert main(["nonsense"]) == 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert "terms_acceptances" in inspect(connection).get_table_names()
    engine.dispose()


def test_the_command_refuses_to_start_without_its_settings(capsys):
    from clients.institution_portal.__main__ import main

    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("PORTAL_")]:
        del os.environ[name]
    try:
        assert main(["run"]) == 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert "missing settings: PORTAL_ISSUER" in capsys.readouterr().err
