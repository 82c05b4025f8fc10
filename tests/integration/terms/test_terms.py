"""Terms of use and privacy policy: the pages, the sign-in step (accept, decline, a newly
published version asked again), `idp terms`, and a relying party's sign-in through every
step: password, emailed code, terms, consent, then the code at the client."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.cli import main
from idp.extensions import db
from idp.signin.models import UserSession
from idp.terms.documents import TERMS_ROOT
from idp.terms.models import TermsAcceptance
from tests.conftest import build_app
from tests.integration.signin.support import SignIn, cookie_value, csrf_token, make_user
from tests.oidc_support import PASSWORD as OIDC_PASSWORD
from tests.oidc_support import authorization_params, basic_auth, make_client, pkce_pair, query_of
from tests.oidc_support import make_user as make_oidc_user
from tests.signin_support import latest_signin_code

EMAIL = "ana@example.ca"
NEW_VERSION = "2099-01"


def idp(app, *args: str):
    return CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)


@pytest.fixture
def terms_directory(tmp_path) -> Path:
    """An operator's own documents (TERMS_DIRECTORY): the bundled version and a newer one."""
    root = tmp_path / "terms"
    shutil.copytree(TERMS_ROOT / "2026-11", root / "2026-11")
    (root / NEW_VERSION).mkdir()
    for kind in ("terms", "privacy"):
        for locale in ("fr", "en"):
            (root / NEW_VERSION / f"{kind}.{locale}.html").write_text(
                '{% extends "terms/_embedded.html" if embedded else "terms/_document.html" %}\n'
                f'{{% set document_kind = "{kind}" %}}{{% set document_locale = "{locale}" %}}\n'
                f"{{% block document %}}<p>{kind} {locale} {NEW_VERSION}: new rules.</p>{{% endblock %}}\n"
            )
    return root


@pytest.fixture
def operator_app(database_uri, clock, terms_directory):
    app = build_app(database_uri, clock, TERMS_DIRECTORY=str(terms_directory))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def to_terms_page(client, locale: str = "en"):
    browser = SignIn(client, locale=locale)
    response = browser.submit(EMAIL, page=browser.start(), accept_terms=False)
    assert response.status_code == 303 and response.headers["Location"] == "/signin/terms", response.text[:300]
    return client.get("/signin/terms")


def decide(client, page, decision: str):
    """Press a button of the terms page: the form sends its hidden fields too, as a browser does."""
    data = {"csrf_token": csrf_token(page.text), "decision": decision}
    shown = re.search(r'name="version" type="hidden" value="([^"]*)"', page.text)
    if shown:
        data["version"] = shown.group(1)
    return client.post("/signin/terms", data=data)


def acceptances(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(row.version, row.locale) for row in db.session.scalars(select(TermsAcceptance).order_by(TermsAcceptance.id))]


# --- The documents --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "title", "locale"), [
    ("/terms", "Terms of use", "en"), ("/privacy", "Privacy policy", "en"),
    ("/terms", "Conditions d'utilisation", "fr"), ("/privacy", "Politique de confidentialité", "fr"),
])
def test_each_document_is_shown_in_the_page_language(client, path, title, locale):
    client.set_cookie("passerelle_lang", locale)
    page = client.get(path)
    assert page.status_code == 200
    assert f"<title>{title} – Passerelle</title>" in page.text.replace("&#39;", "'")
    assert f'<div class="legal-document" lang="{locale}">' in page.text
    assert "2026-11" in page.text


def test_the_privacy_policy_explains_pairwise_identifiers_and_retention(client):
    client.set_cookie("passerelle_lang", "en")
    text = client.get("/privacy").text
    assert "pairwise" in text and "How long we keep it" in text and "Office of the Privacy Commissioner of Canada" in text
    client.set_cookie("passerelle_lang", "fr")
    assert "identifiant « par paire »" in client.get("/privacy").text


@pytest.mark.settings(TERMS_CONTACT_EMAIL="vie-privee@ecole.example.ca", TERMS_OPERATOR_NAME="École Exemple")
def test_the_documents_name_the_operator_and_contact_from_configuration(client):
    client.set_cookie("passerelle_lang", "fr")
    for path in ("/terms", "/privacy"):
        text = client.get(path).text
        assert "École Exemple" in text
        assert 'href="mailto:vie-privee@ecole.example.ca"' in text


def test_without_a_contact_the_documents_point_to_the_help_page(client):
    client.set_cookie("passerelle_lang", "en")
    assert 'the address given on the <a href="/help">help page</a>' in client.get("/terms").text


@pytest.mark.parametrize("path", ["/terms/nope", "/privacy/2099-01", "/terms/..", "/terms/%2e%2e%2fsignin", "/privacy/" + "x" * 40])
def test_unknown_or_unpublished_versions_are_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "Traceback" not in response.text


def test_the_version_in_force_also_has_its_own_address(client):
    client.set_cookie("passerelle_lang", "en")
    assert client.get("/terms/2026-11").status_code == 200
    assert client.get("/privacy/2026-11").status_code == 200


# --- The sign-in step -----------------------------------------------------------------------


def test_a_first_sign_in_asks_to_accept_the_terms_in_force(app, client, clock, mailbox):
    user_id = make_user(app)
    page = to_terms_page(client)
    assert page.status_code == 200
    assert "<title>Terms of use and privacy policy – Passerelle</title>" in page.text
    assert "(version 2026-11)" in page.text
    # Both documents are on the page, in its language, and on their own pages.
    assert page.text.count('class="legal-document" lang="en"') == 2
    assert 'href="/terms"' in page.text and 'href="/privacy"' in page.text
    assert "I have read and I accept" in page.text and "I do not accept" in page.text
    assert "have changed since you last accepted" not in page.text

    response = decide(client, page, "accept")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert acceptances(app) == [("2026-11", "en")]
    with app.app_context():
        event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.TERMS_ACCEPTED)))
        details = {key: value for key, value in event.details.items() if key != "request_id"}  # issue 15
        assert event.user_id == user_id and details == {"version": "2026-11", "locale": "en"}
        assert event.ip_address == "127.0.0.1"
        accepted = db.session.scalar(select(TermsAcceptance))
        assert accepted.accepted_at == clock()


def test_once_accepted_the_terms_are_not_asked_again(app, client, mailbox):
    make_user(app)
    decide(client, to_terms_page(client), "accept")
    SignIn(client).sign_out()
    browser = SignIn(client)
    response = browser.submit(EMAIL, page=browser.start(), accept_terms=False)
    assert response.headers["Location"] == "/account"
    assert acceptances(app) == [("2026-11", "en")]


def test_the_language_recorded_is_the_one_the_person_read(app, client, mailbox):
    make_user(app)
    page = to_terms_page(client, locale="fr")
    assert "J'ai lu et j'accepte" in page.text.replace("&#39;", "'")
    assert page.text.count('class="legal-document" lang="fr"') == 2
    decide(client, page, "accept")
    assert acceptances(app) == [("2026-11", "fr")]


def test_declining_signs_nobody_in_and_explains(app, client, mailbox):
    make_user(app)
    page = to_terms_page(client)
    response = decide(client, page, "decline")
    assert response.status_code == 200
    assert "You are not signed in" in response.text and 'href="/account"' in response.text
    assert cookie_value(client, "passerelle_session") is None
    assert cookie_value(client, "passerelle_signin") is None
    assert acceptances(app) == []
    assert client.get("/account").status_code == 303
    # The next sign-in asks again.
    assert to_terms_page(client).status_code == 200


def test_an_unknown_decision_is_refused_without_a_change(app, client, mailbox):
    make_user(app)
    page = to_terms_page(client)
    response = decide(client, page, "maybe")
    assert response.status_code == 422 and 'class="error-summary"' in response.text
    assert acceptances(app) == []


def test_a_newly_published_version_is_asked_at_the_next_sign_in(operator_app, clock, mailbox):
    make_user(operator_app)
    client = operator_app.test_client()
    result = idp(operator_app, "terms", "publish", "2026-11")
    assert result.exit_code == 0, result.output
    decide(client, to_terms_page(client), "accept")
    SignIn(client).sign_out()

    clock.advance(days=40)
    result = idp(operator_app, "terms", "publish", NEW_VERSION)
    assert result.exit_code == 0 and f"published {NEW_VERSION}" in result.output
    page = to_terms_page(client)
    assert f"(version {NEW_VERSION})" in page.text and "new rules" in page.text
    assert "have changed since you last accepted" in page.text
    decide(client, page, "accept")
    assert acceptances(operator_app) == [("2026-11", "en"), (NEW_VERSION, "en")]

    # The earlier version stays readable, marked as such and linked from the current one.
    client.set_cookie("passerelle_lang", "en")
    current = client.get("/terms")
    assert NEW_VERSION in current.text and 'href="/terms/2026-11"' in current.text
    earlier = client.get("/terms/2026-11")
    assert earlier.status_code == 200 and "This is an earlier version, no longer in force." in earlier.text


def test_a_version_published_while_reading_must_be_read_first(operator_app, clock, mailbox):
    make_user(operator_app)
    client = operator_app.test_client()
    idp(operator_app, "terms", "publish", "2026-11")
    page = to_terms_page(client)
    assert 'name="version" type="hidden" value="2026-11"' in page.text
    clock.advance(60)
    idp(operator_app, "terms", "publish", NEW_VERSION)
    response = decide(client, page, "accept")
    assert response.status_code == 422
    assert "A new version was published while you were reading." in response.text
    assert "new rules" in response.text and f'value="{NEW_VERSION}"' in response.text
    assert acceptances(operator_app) == []
    assert decide(client, response, "accept").headers["Location"] == "/account"
    assert acceptances(operator_app) == [(NEW_VERSION, "en")]


def test_a_session_that_began_before_a_new_version_is_not_interrupted(operator_app, clock, mailbox):
    """Terms are asked at a fresh sign-in; a live session keeps working until then."""
    make_user(operator_app)
    client = operator_app.test_client()
    decide(client, to_terms_page(client), "accept")
    idp(operator_app, "terms", "publish", NEW_VERSION)
    assert client.get("/account").status_code == 200


# --- idp terms ------------------------------------------------------------------------------


def test_publish_refuses_a_version_without_its_four_documents(operator_app, terms_directory):
    (terms_directory / "2100-01").mkdir()
    (terms_directory / "2100-01" / "terms.fr.html").write_text("x")
    for version, message in (("2100-01", "do not all exist"), ("2200-01", "do not all exist"),
                             ("../etc", "1 to 32 letters")):
        result = CliRunner().invoke(main, ["terms", "publish", version], obj=operator_app)
        assert result.exit_code == 1 and message in result.output, result.output
    idp(operator_app, "terms", "publish", NEW_VERSION)
    again = CliRunner().invoke(main, ["terms", "publish", NEW_VERSION], obj=operator_app)
    assert again.exit_code == 1 and "published already" in again.output


def test_list_shows_what_is_in_force(operator_app):
    listed = idp(operator_app, "terms", "list")
    assert listed.exit_code == 0
    assert re.search(rf"^{NEW_VERSION}\tnot published\t\(in force\)$", listed.output, re.MULTILINE)
    idp(operator_app, "terms", "publish", "2026-11")
    data = json.loads(idp(operator_app, "terms", "list", "--json").stdout)
    assert [(row["version"], row["is_current"], row["published_at"] is not None) for row in data] == [
        ("2026-11", True, True), (NEW_VERSION, False, False),
    ]
    assert idp(operator_app, "terms", "--help").exit_code == 0


# --- A relying party's sign-in through every step -----------------------------------------------


def test_a_relying_party_sign_in_goes_through_every_step_in_order(app, client, mailbox):
    make_oidc_user(app)
    rp = make_client(app, require_consent=True)
    verifier, challenge = pkce_pair()
    params = authorization_params(rp, scope="openid email", code_challenge=challenge, code_challenge_method="S256")
    response = client.get("/authorize?" + urlencode(params))
    visited = []
    for _ in range(12):
        location = response.headers.get("Location", "")
        if location.startswith(rp.redirect_uri):
            break
        path = urlsplit(location).path
        page = client.get(location)
        if page.status_code in (302, 303):
            response = page
            continue
        visited.append(path)
        if path == "/signin":
            data = {"email": "zoe@example.ca", "password": OIDC_PASSWORD}
        elif path == "/signin/code":
            data = {"code": latest_signin_code("zoe@example.ca")}
        elif path == "/signin/terms":
            data = {"decision": "accept"}
        elif path == "/signin/consent":
            data = {"decision": "allow"}
        response = client.post(path, data={**data, "csrf_token": csrf_token(page.text)})
    assert visited == ["/signin", "/signin/code", "/signin/terms", "/signin/consent"]
    result = query_of(response.headers["Location"])
    assert result["state"] == params["state"] and result["code"]

    token = client.post("/token", headers=basic_auth(rp), data={
        "grant_type": "authorization_code", "code": result["code"], "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    })
    assert token.status_code == 200, token.get_json()
    with app.app_context():
        user_session = db.session.scalar(select(UserSession))
        assert user_session.amr == ["pwd", "email"]


def test_declining_the_terms_in_a_relying_party_sign_in_returns_access_denied(app, client, mailbox):
    make_oidc_user(app)
    rp = make_client(app, name="Portail des documents")
    params = authorization_params(rp)
    response = client.get("/authorize?" + urlencode(params))
    browser = SignIn(client)
    page = client.get(response.headers["Location"])
    response = browser.submit("zoe@example.ca", OIDC_PASSWORD, page, accept_terms=False)
    assert response.headers["Location"] == "/signin/terms"
    page = client.get("/signin/terms")
    declined = decide(client, page, "decline")
    assert "Return to Portail des documents" in declined.text
    assert cookie_value(client, "passerelle_session") is None
    back = client.get("/authorize/resume")
    assert back.status_code in (302, 303)
    result = query_of(back.headers["Location"])
    assert back.headers["Location"].startswith(rp.redirect_uri)
    assert result["error"] == "access_denied" and result["state"] == params["state"]
    assert cookie_value(client, "passerelle_session") is None
