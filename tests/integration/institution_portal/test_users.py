"""Users pages (issue 12, seed 001), primary user only, against a live Passerelle over HTTP:
« Créer un compte pour un utilisateur d'un EED » → « Nouvelle requête », the members and open
invitations, requests to change the primary user or remove a secondary user; a secondary
user gets a clear 403; Passerelle's refusals are messages in the page's language; Passerelle
out of reach is a 503 page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.invitations.models import Invitation
from idp.orgs.models import ChangeRequest
from tests.institution_portal_api_support import attach, register_api_portal, signed_in
from tests.institution_portal_support import build_portal
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members
from tests.support import free_port

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


@pytest.fixture
def dli(live_server):
    return dli_with_members(live_server.app)


@pytest.fixture
def registration(live_server, dli):
    registered = register_api_portal(live_server.app)
    attach(live_server.app, dli.id, registered.client_id)
    return registered


@pytest.fixture
def portal(live_server, registration, tmp_path, clock):
    return build_portal(live_server.url, registration, tmp_path / "portal.db", WTF_CSRF_ENABLED=False, TESTING=True)


@pytest.fixture
def primary(portal, live_server, registration, dli):
    return signed_in(portal, live_server.app, registration.client_id, PRIMARY_EMAIL, "primary", dli.public_id)


@pytest.fixture
def secondary(portal, live_server, registration, dli):
    return signed_in(portal, live_server.app, registration.client_id, SECONDARY_EMAIL, "secondary", dli.public_id)


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def test_the_primary_user_sees_the_members_and_the_link_to_create_an_account(primary):
    page = primary.get("/users", headers=FR)
    assert page.status_code == 200
    html = text(page)
    assert "Créer un compte pour un utilisateur d'un établissement d'enseignement désigné" in html
    assert PRIMARY_EMAIL in html and SECONDARY_EMAIL in html
    assert "Utilisateur principal" in html and "Utilisateur secondaire" in html


def test_the_primary_user_invites_a_secondary_user_with_a_new_request(primary, live_server, mailbox):
    form = primary.get("/users/new", headers=EN)
    assert form.status_code == 200 and "New request" in text(form)
    sent = primary.post("/users/new", data={"email": "lou@example.ca", "locale": "en"}, headers=EN)
    assert sent.status_code == 302 and sent.headers["Location"] == "/users"
    listed = text(primary.get("/users", headers=EN))
    assert "Invitation sent to lou@example.ca" in listed
    assert "lou@example.ca" in listed.split('id="invitations"')[1] and "Pending until" in listed
    with live_server.app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == "lou@example.ca"))
        assert invitation.organization_role == "secondary" and invitation.locale == "en"


@pytest.mark.parametrize(("email", "headers", "message"), [
    ("", EN, "Enter an email address, like name@example.ca."),
    (SECONDARY_EMAIL, EN, "This address already belongs to a user of your institution."),
    ("not an address", EN, "Enter a valid email address, like name@example.ca."),
    (SECONDARY_EMAIL, FR, "Cette adresse appartient déjà à un utilisateur de votre établissement."),
])
def test_a_refused_invitation_says_why_in_the_page_language(primary, email, headers, message):
    page = primary.post("/users/new", data={"email": email, "locale": "fr"}, headers=headers)
    assert page.status_code == 422
    assert message in text(page)
    assert 'class="error-summary"' in text(page)


def test_the_primary_user_asks_to_remove_a_secondary_user(primary, live_server, dli, registration):
    from tests.institution_portal_api_support import subject_of

    secondary_sub = subject_of(live_server.app, registration.client_id, SECONDARY_EMAIL)
    confirm = primary.get(f"/users/remove?member={secondary_sub}", headers=EN)
    assert confirm.status_code == 200 and "checked" in text(confirm)
    missing = primary.post("/users/remove", data={"member": secondary_sub, "reason": ""}, headers=EN)
    assert missing.status_code == 422 and "Explain why you make this request." in text(missing)
    sent = primary.post("/users/remove", data={"member": secondary_sub, "reason": "Départ en juin."}, headers=EN)
    assert sent.status_code == 302
    listed = text(primary.get("/users", headers=EN))
    assert "Your request to remove the secondary user was sent" in listed
    assert "Removal requested" in listed and "Waiting for a decision" in listed and "Départ en juin." in listed
    again = primary.post("/users/remove", data={"member": secondary_sub, "reason": "Encore."}, headers=FR)
    assert again.status_code == 422 and "La même demande attend déjà une décision." in text(again)
    with live_server.app.app_context():
        assert db.session.scalar(select(ChangeRequest.kind)) == "remove_secondary"


def test_removing_someone_who_is_not_a_secondary_user_is_refused(primary, live_server, registration):
    from tests.institution_portal_api_support import subject_of

    primary_sub = subject_of(live_server.app, registration.client_id, PRIMARY_EMAIL)
    for member in (primary_sub, "made-up-sub"):
        page = primary.post("/users/remove", data={"member": member, "reason": "Parti."}, headers=EN)
        assert page.status_code == 422 and "Choose a secondary user." in text(page)
    with live_server.app.app_context():
        assert db.session.scalar(select(ChangeRequest)) is None


def test_the_primary_user_asks_to_hand_over_to_a_new_address(primary, live_server):
    page = primary.post("/users/change-primary", data={"target": "new", "new_email": "", "former_primary_becomes":
                                                       "secondary", "reason": "Retraite."}, headers=EN)
    assert page.status_code == 422 and "Enter an email address" in text(page)
    sent = primary.post("/users/change-primary", data={
        "target": "new", "new_email": "nia@example.ca", "new_locale": "fr", "former_primary_becomes": "leave",
        "reason": "Départ à la retraite."}, headers=EN)
    assert sent.status_code == 302, text(sent)
    listed = text(primary.get("/users", headers=EN))
    assert "Make nia@example.ca the primary user" in listed
    with live_server.app.app_context():
        change = db.session.scalar(select(ChangeRequest))
        assert (change.kind, change.new_email, change.former_primary_becomes) == ("change_primary", "nia@example.ca",
                                                                                  "leave")


def test_the_primary_user_asks_to_hand_over_to_a_secondary_user(primary, live_server, registration):
    from tests.institution_portal_api_support import subject_of

    secondary_sub = subject_of(live_server.app, registration.client_id, SECONDARY_EMAIL)
    form = text(primary.get("/users/change-primary", headers=EN))
    assert secondary_sub in form and SECONDARY_EMAIL in form
    sent = primary.post("/users/change-primary", data={"target": secondary_sub, "former_primary_becomes": "secondary",
                                                       "reason": "Nouvelle direction."}, headers=EN)
    assert sent.status_code == 302, text(sent)
    listed = text(primary.get("/users", headers=EN))
    assert "Make Zoé Citoyenne the primary user" in listed


@pytest.mark.parametrize("path", ["/users", "/users/new", "/users/remove", "/users/change-primary"])
def test_a_secondary_user_gets_a_clear_403(secondary, path, live_server):
    for headers, words in ((EN, "Only your institution's primary user can manage its users."),
                           (FR, "Seul l'utilisateur principal de votre établissement peut en gérer les utilisateurs.")):
        page = secondary.get(path, headers=headers)
        assert page.status_code == 403 and 'id="forbidden"' in text(page)
    posted = secondary.post(path, data={"email": "lou@example.ca", "locale": "fr", "member": "x", "reason": "x",
                                        "target": "new", "former_primary_becomes": "leave"})
    assert posted.status_code in (403, 405)
    with live_server.app.app_context():
        assert db.session.scalar(select(Invitation).where(Invitation.email == "lou@example.ca")) is None


def test_users_pages_need_a_signed_in_person_who_accepted_the_terms(portal, live_server, registration, dli):
    assert portal.test_client().get("/users").headers["Location"] == "/login"
    fresh = signed_in(portal, live_server.app, registration.client_id, PRIMARY_EMAIL, "primary", dli.public_id,
                      accept_terms=False)
    assert fresh.get("/users").headers["Location"] == "/terms"


def test_a_portal_not_attached_to_the_institution_says_to_contact_the_ministry(live_server, dli, tmp_path):
    registration = register_api_portal(live_server.app)  # no `idp orgs attach`
    portal = build_portal(live_server.url, registration, tmp_path / "p.db", WTF_CSRF_ENABLED=False, TESTING=True)
    browser = signed_in(portal, live_server.app, registration.client_id, PRIMARY_EMAIL, "primary", dli.public_id)
    page = browser.get("/users", headers=EN)
    assert page.status_code == 409 and "Contact the ministry" in text(page)


def test_passerelle_out_of_reach_is_a_clear_page(live_server, registration, dli, tmp_path):
    portal = build_portal(f"http://127.0.0.1:{free_port()}", registration, tmp_path / "down.db",
                          WTF_CSRF_ENABLED=False, TESTING=True)
    browser = signed_in(portal, live_server.app, registration.client_id, PRIMARY_EMAIL, "primary", dli.public_id)
    for response in (browser.get("/users", headers=EN), browser.get("/users/remove", headers=EN),
                     browser.post("/users/new", data={"email": "lou@example.ca", "locale": "fr"}, headers=EN)):
        assert response.status_code == 503
        assert "Passerelle cannot be reached right now" in text(response)


def test_a_former_primary_user_whose_session_still_says_primary_is_refused(portal, live_server, registration, dli):
    """The role in the portal session dates from sign-in: the users pages check it against
    Passerelle's member list at each visit."""
    stale = signed_in(portal, live_server.app, registration.client_id, SECONDARY_EMAIL, "primary", dli.public_id)
    for path in ("/users", "/users/remove", "/users/change-primary"):
        page = stale.get(path, headers=EN)
        assert page.status_code == 409, path
        assert "Passerelle no longer counts you as your institution's primary user" in text(page)
