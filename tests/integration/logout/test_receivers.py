"""The back-channel logout receivers (issue 14): the institution portal, the document portal
and the demo relying party verify each logout token fully against a live Passerelle's JWKS
(clients/portal_kit/backchannel.py). A valid token ends the session its sid names (or every
session of its sub) and gets 200; a replayed jti, a wrong aud, an expired token, a nonce, a
bad signature and every other malformed token get 400 with an error JSON, never a 500."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from clients.demo_rp import create_app as create_demo_rp
from clients.document_portal.auth.models import PortalSession as DocumentSession
from clients.document_portal.db import db as document_db
from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.institution_portal.db import db as institution_db
from clients.institution_portal.models import PortalSession as InstitutionSession
from idp.logout.tokens import logout_token_claims
from tests.document_portal_support import (
    build_document_portal,
    register_document_portal,
)
from tests.institution_portal_support import build_portal, register_portal
from tests.oidc_support import make_client

SUB = "pairwise-subject-of-zoe"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_demo_pki(tmp_path_factory.mktemp("idp-logout-pki"))


def fake_id_token(sid: str) -> str:
    """What a portal keeps of a verified sign-in: only the payload's sid is read back."""
    payload = base64.urlsafe_b64encode(json.dumps({"sub": SUB, "sid": sid}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJFUzI1NiJ9.{payload}.c2ln"


class PortalReceiver:
    """A portal with two sessions of the same person (sid s1 and s2) and one of someone else."""

    def __init__(self, app, db, model, client_id: str, **columns):
        self.app, self.db, self.model, self.client_id = app, db, model, client_id
        with app.app_context():
            now = app.extensions[self.extension_name(app)].clock()
            for index, (sub, sid) in enumerate(((SUB, "s1"), (SUB, "s2"), ("someone-else", "s3"))):
                db.session.add(model(token_hash=f"{index:064d}", sub=sub, acr="urn:passerelle:acr:mfa",
                                     id_token=fake_id_token(sid), created_at=now, expires_at=now + timedelta(hours=1),
                                     **columns))
            db.session.commit()

    @staticmethod
    def extension_name(app) -> str:
        return "institution_portal" if "institution_portal" in app.extensions else "document_portal"

    def post(self, token):
        return self.app.test_client().post("/backchannel-logout", data={} if token is None else {"logout_token": token})

    def live_sids(self) -> set[str]:
        with self.app.app_context():
            return {json.loads(base64.urlsafe_b64decode(row.id_token.split(".")[1] + "==")).get("sid")
                    for row in self.db.session.query(self.model)}


class DemoRpReceiver:
    """The demo relying party; with several apps (workers sharing one database), each token
    goes to the next worker in turn and another one is asked which sign-ins ended."""

    def __init__(self, app, client_id: str, *others):
        self.app, self.client_id = app, client_id
        self.workers = [app, *others]
        self.posted = 0

    def post(self, token):
        worker = self.workers[self.posted % len(self.workers)]
        self.posted += 1
        return worker.test_client().post("/backchannel-logout", data={} if token is None else {"logout_token": token})

    def live_sids(self) -> set[str]:
        ended = self.workers[self.posted % len(self.workers)].extensions["demo_rp_ended_sessions"]
        return {sid for sid in ("s1", "s2", "s3")
                if not ended.has_ended({"sid": sid, "sub": SUB if sid != "s3" else "someone-else", "iat": 0})}


@pytest.fixture(params=["institution_portal", "document_portal", "demo_rp", "demo_rp_two_workers"])
def receiver(request, live_server, tmp_path):
    if request.param == "institution_portal":
        registration = register_portal(live_server.app)
        app = build_portal(live_server.url, registration, tmp_path / "portal.db", TESTING=True)
        return PortalReceiver(app, institution_db, InstitutionSession, registration.client_id, organization_id="o1",
                              organization_number="O1", organization_name_fr="Collège", organization_name_en="College",
                              role="primary")
    if request.param == "document_portal":
        registration = register_document_portal(live_server.app)
        app = build_document_portal(live_server.url, registration, tmp_path / "portal.db",
                                    request.getfixturevalue("pki"), TESTING=True)
        return PortalReceiver(app, document_db, DocumentSession, registration.client_id, role="learner")
    registration = make_client(live_server.app, name="Demo", redirect_uris=["http://127.0.0.1:5001/callback"])
    workers = 2 if request.param == "demo_rp_two_workers" else 1
    apps = [create_demo_rp(live_server.url, registration.client_id, registration.client_secret,
                           "http://127.0.0.1:5001/callback", secret_key="insecure-test-rp-key",
                           database_url=f"sqlite:///{tmp_path / 'demo-rp.sqlite3'}") for _ in range(workers)]
    return DemoRpReceiver(*apps[:1], registration.client_id, *apps[1:])


def passerelle_token(live_server, clock, receiver, *, typ="logout+jwt", alg="ES256", **changes) -> str:
    """A logout token signed with Passerelle's key; changes replace claims (None removes one)."""
    claims = logout_token_claims(issuer=live_server.url, client_id=receiver.client_id, subject=SUB, sid="s1",
                                 now=clock(), ttl=120)
    claims.update(changes)
    claims = {key: value for key, value in claims.items() if value is not None}
    with live_server.app.app_context():
        return live_server.app.extensions["oidc_server"].sign(claims, alg, typ=typ)


def assert_refused(response):
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_request" and response.get_json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_a_valid_token_ends_the_session_its_sid_names(live_server, clock, receiver, alg):
    response = receiver.post(passerelle_token(live_server, clock, receiver, alg=alg))
    assert response.status_code == 200 and response.get_json() == {}
    assert response.headers["Cache-Control"] == "no-store"
    assert receiver.live_sids() == {"s2", "s3"}


def test_a_token_with_sub_only_ends_every_session_of_the_person(live_server, clock, receiver):
    assert receiver.post(passerelle_token(live_server, clock, receiver, sid=None)).status_code == 200
    if isinstance(receiver, PortalReceiver):
        assert receiver.live_sids() == {"s3"}


def test_the_demo_rp_workers_share_replays_and_ended_sign_ins(live_server, clock, tmp_path):
    """Two workers of the demo relying party on one database behave as one: a jti used at
    one is refused at the other, which also forgets the sign-in the token ended."""
    registration = make_client(live_server.app, name="Demo", redirect_uris=["http://127.0.0.1:5001/callback"])
    first, second = (create_demo_rp(live_server.url, registration.client_id, registration.client_secret,
                                    "http://127.0.0.1:5001/callback", secret_key="insecure-test-rp-key",
                                    database_url=f"sqlite:///{tmp_path / 'demo-rp.sqlite3'}") for _ in range(2))
    receiver = DemoRpReceiver(first, registration.client_id)
    token = passerelle_token(live_server, clock, receiver)
    assert first.test_client().post("/backchannel-logout", data={"logout_token": token}).status_code == 200
    assert_refused(second.test_client().post("/backchannel-logout", data={"logout_token": token}))
    assert DemoRpReceiver(second, registration.client_id).live_sids() == {"s2", "s3"}


def test_a_replayed_jti_is_refused(live_server, clock, receiver):
    token = passerelle_token(live_server, clock, receiver)
    assert receiver.post(token).status_code == 200
    assert_refused(receiver.post(token))
    again = passerelle_token(live_server, clock, receiver, sid="s2", jti=json.loads(
        base64.urlsafe_b64decode(token.split(".")[1] + "=="))["jti"])
    assert_refused(receiver.post(again))  # another token, the same jti
    assert receiver.live_sids() == {"s2", "s3"}


@pytest.mark.parametrize("change", [
    pytest.param({"aud": "another-client"}, id="wrong aud"),
    pytest.param({"iss": "https://evil.example"}, id="wrong iss"),
    pytest.param({"nonce": "n0nce"}, id="with a nonce"),
    pytest.param({"events": None}, id="no events"),
    pytest.param({"events": {"http://schemas.openid.net/event/backchannel-logout": "yes"}}, id="event not an object"),
    pytest.param({"events": {"http://schemas.openid.net/event/backchannel-logout": {}, "other": {}}}, id="two events"),
    pytest.param({"sub": None, "sid": None}, id="neither sub nor sid"),
    pytest.param({"jti": None}, id="no jti"),
    pytest.param({"sid": 42}, id="sid not a string"),
    pytest.param({"iat": None}, id="no iat"),
    pytest.param({"exp": "tomorrow"}, id="exp not a number"),
])
def test_a_token_with_wrong_claims_is_refused(live_server, clock, receiver, change):
    assert_refused(receiver.post(passerelle_token(live_server, clock, receiver, **change)))
    assert receiver.live_sids() == {"s1", "s2", "s3"}


def test_an_expired_token_is_refused(live_server, clock, receiver):
    now = int(clock().timestamp())
    assert_refused(receiver.post(passerelle_token(live_server, clock, receiver, iat=now - 3600, exp=now - 3000)))
    # Still within its exp, but signed longer ago than a receiver accepts (MAX_AGE, 10 minutes).
    assert_refused(receiver.post(passerelle_token(live_server, clock, receiver, iat=now - 1200, exp=now + 60)))


def test_a_token_from_the_future_is_refused(live_server, clock, receiver):
    assert_refused(receiver.post(passerelle_token(live_server, clock, receiver,
                                                  iat=int(clock().timestamp()) + 3600)))


def test_a_token_typed_as_an_id_token_is_refused(live_server, clock, receiver):
    assert_refused(receiver.post(passerelle_token(live_server, clock, receiver, typ="JWT")))


def test_a_bad_signature_is_refused(live_server, clock, receiver):
    token = passerelle_token(live_server, clock, receiver)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    forged = jwt.encode(header, json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==")),
                        ECKey.generate_key("P-256"), algorithms=["ES256"])
    assert_refused(receiver.post(forged))
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert_refused(receiver.post(tampered))
    unknown_kid = jwt.encode({**header, "kid": secrets.token_hex(8)},
                             json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==")),
                             ECKey.generate_key("P-256"), algorithms=["ES256"])
    assert_refused(receiver.post(unknown_kid))
    assert receiver.live_sids() == {"s1", "s2", "s3"}


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c", "x" * 10000,
                                   "eyJhbGciOiJub25lIiwidHlwIjoibG9nb3V0K2p3dCJ9.e30."])
def test_malformed_tokens_are_refused_never_a_500(receiver, token):
    assert_refused(receiver.post(token))


def test_the_endpoint_needs_no_csrf_token_but_only_accepts_post(receiver):
    assert receiver.app.test_client().get("/backchannel-logout").status_code in (404, 405)
