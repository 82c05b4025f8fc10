"""Document invitations (issue 13): POST /api/invitations with purpose "document", the one
email each person gets (seed 000) over real SMTP, binding to the person, the "new document"
link, the subject lookup, revocation, and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.invitations.models import Invitation
from idp.mail.models import OutboxMessage
from tests.integration.registration.support import csrf, invitation_code, invite
from tests.integration.registration.test_code_journey import code_form_data, confirm_with_code
from tests.integration.registration.test_link_journey import almost_there, fill_link_form
from tests.invitations_support import access_token, bearer, make_api_client
from tests.mail_support import code_in, html_body, path_of_link, text_body
from tests.oidc_support import SignIn, make_client, make_user

PORTAL = "https://documents.example.ca"
RETURN_URL = f"{PORTAL}/documents/42"
EMAIL = "zoe@example.ca"
DETAILS = {
    "document_type": {"fr": "Relevé de notes numérisé", "en": "Digital transcript"},
    "issuer_name": {"fr": "École Imaginaire", "en": "Imaginary School"},
    "contact_email": "info@ecole-imaginaire.ca",
    "faq_url": f"{PORTAL}/faq",
    "issuer_info_url": "https://ecole-imaginaire.ca/mescertif",
}
BODY = {"email": "Zoe@Example.ca", "given_name": "Zoé", "family_name": "Citoyenne", "locale": "fr",
        "purpose": "document", "details": DETAILS, "return_url": RETURN_URL}


def portal_client(app, name="Portail de documents", **options):
    """The document portal's registration: sign-in (pairwise subjects) and the invitations API."""
    return make_client(app, name=name, grant_types=("authorization_code", "client_credentials"),
                       redirect_uris=[f"{PORTAL}/callback"], scope="openid invitations", **options)


@pytest.fixture
def portal(app):
    return portal_client(app)


@pytest.fixture
def headers(client, portal):
    return bearer(access_token(client, portal))


def create(client, headers, **body):
    return client.post("/api/invitations", json={**BODY, **body}, headers=headers)


def subject_of(app, rp, user_id: int) -> str:
    """The sub this client sees for the person, as in its ID tokens."""
    with app.app_context():
        server = app.extensions["oidc_server"]
        return server.subject(server.clients.get(db.session, rp.client_id), db.session.get(User, user_id))


def bound_to(client, headers, sub: str) -> list[dict]:
    response = client.get("/api/invitations", query_string={"subject": sub}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["invitations"]


def register_through(app, client, mailbox, path: str, email: str = EMAIL) -> int:
    """The link journey (seed 000) from an invitation's sign-up link; returns the account id."""
    before = len(mailbox.to(email))
    assert fill_link_form(client, path, email=email).status_code == 303
    activate = path_of_link(mailbox.wait_for(email, count=before + 1), "/register/activate/")
    page = client.get(activate)
    assert client.post(activate, data={"csrf_token": csrf(page.text)}).status_code == 303
    done = almost_there(client)
    assert done.status_code == 303, done.text
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email)), done


# The one email (seed 000)


def test_a_new_address_gets_the_sign_up_invitation_worded_as_the_seed_in_french(client, headers, mailbox):
    response = create(client, headers)
    assert response.status_code == 201
    assert {"id", "state", "expires_at"} <= set(response.get_json())
    assert response.get_json()["state"] == "pending" and response.get_json()["purpose"] == "document"
    [message] = mailbox.to(EMAIL)
    assert message["Subject"] == "École Imaginaire vous a transmis un document : Relevé de notes numérisé"
    text = text_body(message)
    assert "Bonjour Zoé Citoyenne," in text
    assert "Un Relevé de notes numérisé vous a été transmis par École Imaginaire." in text
    assert "Ce document est signé numériquement pour en garantir l'authenticité et l'intégrité.\r\n\r\nPour accéder" in text  # its own paragraph
    assert "Pour accéder à ce document et le partager en ligne avec des tiers, inscrivez-vous" in text
    assert "Si vous avez des questions, contactez votre établissement à info@ecole-imaginaire.ca." in text
    assert f"{PORTAL}/faq" in text
    assert "/register/invitation/" in text and "/invitations/open/" not in text
    html = html_body(message)
    assert ">M&#39;inscrire</a>" in html or ">M'inscrire</a>" in html
    assert f'href="{PORTAL}/faq"' in html and "Foire aux questions" in html
    # Seed 000: « Des renseignements généraux … par École Imaginaire se trouvent sur la [École Imaginaire] »
    assert ("Des renseignements généraux à propos de l'utilisation de Passerelle par École Imaginaire se trouvent "
            "sur la page de l'établissement : https://ecole-imaginaire.ca/mescertif") in " ".join(text.split())
    assert 'href="https://ecole-imaginaire.ca/mescertif"' in html


def test_a_new_address_gets_the_sign_up_invitation_in_english(client, headers, mailbox):
    assert create(client, headers, locale="en").status_code == 201
    [message] = mailbox.to(EMAIL)
    assert message["Subject"] == "Imaginary School sent you a document: Digital transcript"
    text = text_body(message)
    assert "Hello Zoé Citoyenne," in text
    assert "A Digital transcript was sent to you by Imaginary School." in text
    assert "This document is digitally signed to guarantee its authenticity and integrity." in text
    assert "contact your school at info@ecole-imaginaire.ca" in text
    assert ">Sign up</a>" in html_body(message)


def test_a_feminine_french_document_type_agrees(client, headers, mailbox):
    details = {**DETAILS, "document_type": {"fr": "Attestation numérique", "en": "Digital attestation", "gender": "feminine"}}
    assert create(client, headers, details=details).status_code == 201
    assert "Une Attestation numérique vous a été transmise par École Imaginaire." in text_body(mailbox.last_to(EMAIL))


@pytest.mark.parametrize(
    ("locale", "subject", "sentences", "button"),
    [
        ("fr", "Un nouveau document est disponible : Relevé de notes numérisé",
         ["Bonjour Zoé Citoyenne,", "Un Relevé de notes numérisé vous a été transmis par École Imaginaire.",
          "Ce document est signé numériquement", "connectez-vous à votre compte",
          "contactez votre établissement à info@ecole-imaginaire.ca"], "Ouvrir une session"),
        ("en", "A new document is available: Digital transcript",
         ["Hello Zoé Citoyenne,", "A Digital transcript was sent to you by Imaginary School.",
          "This document is digitally signed", "sign in to your", "contact your school at info@ecole-imaginaire.ca"],
         "Sign in"),
    ],
)
def test_an_address_with_an_account_gets_new_document_available(app, client, headers, mailbox, locale, subject,
                                                                 sentences, button):
    make_user(app, email=EMAIL)
    assert create(client, headers, locale=locale).status_code == 201
    [message] = mailbox.to(EMAIL)
    assert message["Subject"] == subject
    text = text_body(message)
    for sentence in sentences:
        assert sentence in text
    assert "/invitations/open/" in text and "/register/" not in text
    assert f">{button}</a>" in html_body(message)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, client, headers):
    """Status, shape and every value but the id and the address: the client cannot tell."""
    make_user(app, email="known@example.ca")

    def comparable(body):
        return {key: value for key, value in body.items() if key not in ("id", "email")}

    known = create(client, headers, email="known@example.ca")
    unknown = create(client, headers, email="unknown@example.ca")
    assert known.status_code == unknown.status_code == 201
    assert comparable(known.get_json()) == comparable(unknown.get_json())
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    for created in (known, unknown):
        read = client.get(f"/api/invitations/{created.get_json()['id']}", headers=headers)
        assert read.status_code == 200 and comparable(read.get_json()) == comparable(known.get_json())
    listed = client.get("/api/invitations", headers=headers).get_json()["invitations"]
    assert [comparable(item) for item in listed] == [comparable(known.get_json())] * 2


# Binding


def test_an_existing_account_is_bound_at_once_and_the_link_signs_in_then_returns(app, client, portal, headers, mailbox):
    user_id = make_user(app, email=EMAIL)
    created = create(client, headers).get_json()
    sub = subject_of(app, portal, user_id)
    assert [(item["id"], item["state"]) for item in bound_to(client, headers, sub)] == [(created["id"], "pending")]

    open_path = path_of_link(mailbox.last_to(EMAIL), "/invitations/open/")
    start = client.get(open_path)
    assert start.status_code in (302, 303) and start.headers["Location"].startswith("/signin")
    page = SignIn(client).follow(start, email=EMAIL)
    assert page.status_code == 200
    assert f'content="0;url={RETURN_URL}"' in page.text and f'href="{RETURN_URL}"' in page.text
    [item] = bound_to(client, headers, sub)
    assert item["state"] == "accepted" and item["accepted_at"]
    # The same email's link later: straight on, signed in already.
    assert client.get(open_path).status_code == 200
    with app.app_context():
        event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.INVITATION_ACCEPTED)))
        assert event.user_id == user_id and event.details["invitation"] == created["id"]


def test_the_new_document_link_signed_in_as_someone_else_accepts_nothing(app, client, headers, mailbox):
    make_user(app, email=EMAIL)
    make_user(app, email="other@example.ca")
    created = create(client, headers).get_json()
    open_path = path_of_link(mailbox.last_to(EMAIL), "/invitations/open/")
    SignIn(client).follow(client.get(open_path), email="other@example.ca")
    assert client.get(f"/api/invitations/{created['id']}", headers=headers).get_json()["state"] == "pending"


def test_a_new_address_is_bound_to_whoever_registers_through_its_link_even_after_a_change_of_address(
        app, client, portal, headers, mailbox):
    created = create(client, headers).get_json()
    signup = path_of_link(mailbox.last_to(EMAIL), "/register/invitation/")
    user_id, done = register_through(app, client, mailbox, signup)
    assert done.headers["Location"] == RETURN_URL  # lands in the portal, signed in at Passerelle
    sub = subject_of(app, portal, user_id)
    [item] = bound_to(client, headers, sub)
    assert item["id"] == created["id"] and item["state"] == "accepted"

    with app.app_context():  # the person changes their address
        db.session.get(User, user_id).email = "zoe.new@example.ca"
        db.session.commit()
    assert [item["id"] for item in bound_to(client, headers, sub)] == [created["id"]]


def test_two_documents_sent_before_registering_both_reach_the_person(app, client, portal, headers, mailbox):
    first = create(client, headers).get_json()
    second = create(client, headers).get_json()
    assert client.get(f"/api/invitations/{first['id']}", headers=headers).get_json()["state"] == "pending"
    signup = path_of_link(mailbox.last_to(EMAIL), "/register/invitation/")
    user_id, _ = register_through(app, client, mailbox, signup)
    listed = bound_to(client, headers, subject_of(app, portal, user_id))
    assert [(item["id"], item["state"]) for item in listed] == [(second["id"], "accepted"), (first["id"], "accepted")]


def test_registering_the_address_by_another_route_does_not_capture_the_document(app, client, portal, headers, mailbox):
    created = create(client, headers).get_json()
    # Someone registers the same address with another inviter's code (seed 001).
    invite(app, kind="code")
    code = invitation_code(mailbox.wait_for(EMAIL, count=2))
    page = client.get("/register/code")
    assert client.post("/register/code", data=code_form_data(client, page, code)).status_code == 303
    assert confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=3))).status_code == 303
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EMAIL))
        assert db.session.get(User, user_id).is_active
        assert db.session.scalar(select(Invitation.subject_user_id).where(Invitation.public_id == created["id"])) is None
    assert bound_to(client, headers, subject_of(app, portal, user_id)) == []
    assert client.get(f"/api/invitations/{created['id']}", headers=headers).get_json()["state"] == "pending"


def test_the_subject_is_the_clients_pairwise_one(app, client, portal, headers):
    user_id = make_user(app, email=EMAIL)
    create(client, headers)
    with app.app_context():
        raw_subject = db.session.get(User, user_id).subject
    pairwise = subject_of(app, portal, user_id)
    assert pairwise != raw_subject
    assert len(bound_to(client, headers, pairwise)) == 1
    assert bound_to(client, headers, raw_subject) == []
    assert bound_to(client, headers, "x" * 300) == [] and bound_to(client, headers, "") == []


def test_a_client_only_sees_its_own_invitations(app, client, portal, headers):
    user_id = make_user(app, email=EMAIL)
    created = create(client, headers).get_json()
    other = portal_client(app, name="Autre portail", sector_identifier=None)
    other_headers = bearer(access_token(client, other))
    assert client.get(f"/api/invitations/{created['id']}", headers=other_headers).status_code == 404
    assert client.delete(f"/api/invitations/{created['id']}", headers=other_headers).status_code == 404
    assert bound_to(client, other_headers, subject_of(app, other, user_id)) == []
    assert bound_to(client, other_headers, subject_of(app, portal, user_id)) == []
    assert client.get("/api/invitations", headers=other_headers).get_json()["invitations"] == []


# Revocation


def test_revoking_stops_both_links(app, client, headers, mailbox):
    new = create(client, headers).get_json()
    signup = path_of_link(mailbox.last_to(EMAIL), "/register/invitation/")
    make_user(app, email="known@example.ca")
    known = create(client, headers, email="known@example.ca").get_json()
    open_path = path_of_link(mailbox.last_to("known@example.ca"), "/invitations/open/")
    for created in (new, known):
        response = client.delete(f"/api/invitations/{created['id']}", headers=headers)
        assert response.status_code == 204 and response.get_data() == b""
        assert client.get(f"/api/invitations/{created['id']}", headers=headers).get_json()["state"] == "revoked"
    assert client.get(signup).status_code == 410
    assert client.get(open_path).status_code == 410
    with app.app_context():
        events = db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.INVITATION_REVOKED))).all()
        assert len(events) == 2 and {event.user_id for event in events} == {None}


def test_an_unknown_open_link_is_404(client):
    assert client.get("/invitations/open/nope").status_code == 404
    assert client.get("/invitations/open/" + "a" * 300).status_code == 404


def test_creation_is_audited_without_the_person(app, client, headers):
    make_user(app, email=EMAIL)
    created = create(client, headers).get_json()
    with app.app_context():
        event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.INVITATION_CREATED)))
        assert event.user_id is None and event.details["invitation"] == created["id"]
        assert event.details["purpose"] == "document"


def test_an_expired_invitation_reads_expired_and_its_link_is_gone(client, portal, headers, clock, mailbox):
    created = create(client, headers).get_json()
    signup = path_of_link(mailbox.last_to(EMAIL), "/register/invitation/")
    clock.advance(days=15)
    fresh = bearer(access_token(client, portal))
    assert client.get(f"/api/invitations/{created['id']}", headers=fresh).get_json()["state"] == "expired"
    assert client.get(signup).status_code == 410


def test_an_expired_new_document_link_still_leads_to_the_document_without_accepting(app, client, portal, headers,
                                                                                     clock, mailbox):
    make_user(app, email=EMAIL)
    created = create(client, headers).get_json()
    open_path = path_of_link(mailbox.last_to(EMAIL), "/invitations/open/")
    clock.advance(days=15)
    page = SignIn(client).follow(client.get(open_path), email=EMAIL)
    assert page.status_code == 200 and f'href="{RETURN_URL}"' in page.text
    fresh = bearer(access_token(client, portal))
    assert client.get(f"/api/invitations/{created['id']}", headers=fresh).get_json()["state"] == "expired"


# Bad input: a clear JSON 400, nothing stored, nothing sent


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"email": "<b>zoe</b>@example.ca"}, "email"),
        ({"email": "Zoé <zoe@example.ca>"}, "email"),
        ({"email": "zoe@example.ca\r\nBcc: x@example.ca"}, "email"),
        ({"purpose": "transcript"}, "purpose"),
        ({"purpose": "Un relevé de notes."}, "purpose"),
        ({"locale": "de"}, "locale"),
        ({"return_url": "https://evil.example/documents"}, "return_url"),
        ({"return_url": "https://documents.example.ca.evil.example/x"}, "return_url"),
        ({"return_url": "http://documents.example.ca/documents"}, "return_url"),
        ({"return_url": "https://documents.example.ca:8443/documents"}, "return_url"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"return_url": "https://user:pw@documents.example.ca/"}, "return_url"),
        ({"return_url": "/documents/42"}, "return_url"),
        ({"return_url": None}, "return_url"),
        ({"details": None}, "details"),
        ({"details": "Relevé de notes"}, "details"),
        ({"details": {**DETAILS, "document_type": {"fr": "Relevé"}}}, "details.document_type.en"),
        ({"details": {**DETAILS, "document_type": {"fr": "x" * 201, "en": "x"}}}, "details.document_type.fr"),
        ({"details": {**DETAILS, "document_type": {"fr": "x", "en": "x", "gender": "neuter"}}}, "gender"),
        ({"details": {**DETAILS, "issuer_name": {"fr": "École\u202eImaginaire", "en": "x"}}}, "details.issuer_name.fr"),
        ({"details": {**DETAILS, "contact_email": "<script>@example.ca"}}, "details.contact_email"),
        ({"details": {**DETAILS, "faq_url": "javascript:alert(1)"}}, "details.faq_url"),
        ({"details": {**DETAILS, "issuer_info_url": "javascript:alert(1)"}}, "details.issuer_info_url"),
        ({"details": {**DETAILS, "surprise": 1}}, "details.surprise"),
        ({"kind": "code"}, "kind"),
    ],
)
def test_bad_input_is_a_json_400_naming_the_member(app, client, headers, body, mentions):
    response = create(client, headers, **body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert mentions in response.get_json()["error_description"]
    with app.app_context():
        assert db.session.query(Invitation).count() == 0
        assert db.session.query(OutboxMessage).count() == 0


def test_details_without_purpose_document_are_refused(client, headers):
    response = client.post("/api/invitations", json={"email": EMAIL, "kind": "link", "details": DETAILS}, headers=headers)
    assert response.status_code == 400 and "details" in response.get_json()["error_description"]


def test_a_huge_body_is_413_json(client, headers):
    details = {**DETAILS, "document_type": {"fr": "x" * 2_000_000, "en": "x"}}
    response = create(client, headers, details=details)
    assert response.status_code == 413 and response.get_json()["error"] == "invalid_request"


def test_a_client_without_redirect_uris_cannot_name_a_return_url(app, client):
    headers = bearer(access_token(client, make_api_client(app, name="API seulement")))
    response = create(client, headers)
    assert response.status_code == 400 and "return_url" in response.get_json()["error_description"]


def test_subject_cannot_be_combined_with_other_filters(client, headers):
    response = client.get("/api/invitations", query_string={"subject": "x", "state": "pending"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
