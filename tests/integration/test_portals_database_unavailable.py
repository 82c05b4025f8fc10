"""Each portal meets a database that went away as Passerelle does: a translated "try again"
page with 503 and Retry-After, never a bare 500, and a connection lost as a request ends
does not spoil the answer already made."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.portal_kit.sessions import SessionStore
from tests.document_portal_support import build_document_portal
from tests.institution_portal_support import build_portal

REGISTRATION = SimpleNamespace(client_id="portal", client_secret="s")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_demo_pki(tmp_path_factory.mktemp("unavailable-pki"))


@pytest.fixture(params=["institution", "document"])
def portal(request, tmp_path, pki):
    if request.param == "institution":
        return build_portal("http://127.0.0.1:9", REGISTRATION, tmp_path / "portal.db")
    return build_document_portal("http://127.0.0.1:9", REGISTRATION, tmp_path / "portal.db", pki)


def gone(*args, **kwargs):
    raise OperationalError("SELECT", {}, Exception("terminating connection due to administrator command"))


@pytest.mark.parametrize(("language", "title"), [("fr", "Le Portail n’a pas pu répondre"),
                                                 ("en", "The portal could not answer")])
def test_a_database_that_went_away_is_a_translated_503(portal, monkeypatch, language, title):
    monkeypatch.setattr(SessionStore, "find", gone)
    client = portal.test_client()
    client.set_cookie(portal.config["SESSION_COOKIE_NAME"], "x")
    response = client.get("/", headers={"Accept-Language": language})
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert f'<html lang="{language}">' in html and title in html.replace("'", "’")


def test_a_connection_lost_as_the_request_ends_does_not_spoil_its_answer(portal, monkeypatch):
    original, calls = Session.close, []

    def close_fails_once(self):
        calls.append(1)
        if len(calls) == 1:
            gone()
        return original(self)

    database = portal.extensions["sqlalchemy"]
    portal.before_request(lambda: database.session.execute(text("SELECT 1")) and None)  # a page that reads
    monkeypatch.setattr(Session, "close", close_fails_once)
    response = portal.test_client().get("/help")
    assert response.status_code == 200 and len(calls) >= 2
    monkeypatch.undo()
    assert portal.test_client().get("/help").status_code == 200
