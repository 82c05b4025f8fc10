"""The token endpoint's lean path (idp/oidc/token_endpoint.py) answers as Authlib's grants do.

Each request below is sent twice, each time on state of its own (a fresh code, refresh token
or session): once as served, once with the lean path switched off, i.e. through the Authlib
grants alone as before it existed. The two answers must match: errors byte for byte (status,
body, Content-Type, Cache-Control, Pragma, WWW-Authenticate, DPoP-Nonce), tokens member for
member; and so must what the request leaves behind (a code burned, a grant revoked). The
successful requests must have been answered by the lean path, the others by Authlib's.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import select, update

from idp.accounts.models import User
from idp.extensions import db
from idp.oidc import grants, token_endpoint
from idp.oidc.models import AuthorizationCode, Token
from idp.oidc.token_queries import GrantContext
from idp.security.secrets import new_token
from idp.signin.models import UserSession
from tests.integration.oidc.test_code_flow import decode_id_token
from tests.oidc_support import (
    PKCE_CHALLENGE,
    PKCE_VERIFIER,
    REDIRECT_URI,
    basic_auth,
    make_client,
    make_user,
)

COMPARED_HEADERS = ("Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate", "DPoP-Nonce")
ALL_GRANTS = ("authorization_code", "refresh_token", "client_credentials")


class World:
    """A person, clients of every kind, and codes or refresh tokens minted straight into the
    database (as after a sign-in: a live session each), remembering their grants."""

    def __init__(self, app, clock):
        self.app, self.clock, self.http = app, clock, app.test_client()
        self.user_id = make_user(app)
        self.rp = make_client(app, grant_types=ALL_GRANTS, scope="openid offline_access profile invitations")
        self.other = make_client(app, name="Autre portail", grant_types=ALL_GRANTS)
        self.post = make_client(app, name="Portail POST", auth_method="client_secret_post")
        self.public = make_client(app, name="Application publique", is_public=True, auth_method="none")
        self.no_refresh = make_client(app, name="Sans refresh", grant_types=("authorization_code",))
        self.machine = make_client(app, name="Machine", grant_types=("client_credentials",), redirect_uris=(),
                                   post_logout_redirect_uris=())
        self.machine_post = make_client(app, name="Machine POST", grant_types=("client_credentials",), redirect_uris=(),
                                        post_logout_redirect_uris=(), auth_method="client_secret_post")
        self.grants: list[str] = []

    def _live_session(self) -> UserSession:
        now = self.clock()
        session = UserSession(handle_hash=new_token(32)[:64], sid=new_token(16), user_id=self.user_id, auth_time=now,
                              amr=["pwd"], acr="urn:passerelle:acr:pwd", created_at=now, last_seen_at=now,
                              expires_at=now + timedelta(hours=12))
        db.session.add(session)
        db.session.flush()
        return session

    def _context(self, client, scope: str) -> GrantContext:
        session = self._live_session()
        grant_id = new_token(16)
        self.grants.append(grant_id)
        return GrantContext(grant_id=grant_id, client_id=client.client_id, user_id=self.user_id, session_id=session.id,
                            scope=scope, auth_time=self.clock(), acr=session.acr, amr=["pwd"], sid=session.sid)

    def code(self, client=None, scope="openid offline_access", challenge=PKCE_CHALLENGE) -> str:
        with self.app.app_context():
            tokens = self.app.extensions["oidc_server"].tokens()
            code = tokens.create_code(self._context(client or self.rp, scope), redirect_uri=REDIRECT_URI, nonce="n-0S6",
                                      code_challenge=challenge, code_challenge_method="S256" if challenge else None)
            db.session.commit()
            return code

    def refresh_token(self, client=None, scope="openid offline_access", dpop_jkt=None) -> str:
        with self.app.app_context():
            tokens = self.app.extensions["oidc_server"].tokens()
            issued = tokens.issue(self._context(client or self.rp, scope), include_refresh_token=True, dpop_jkt=dpop_jkt)
            db.session.commit()
            return issued["refresh_token"]

    def set_person(self, **values) -> None:
        with self.app.app_context():
            db.session.execute(update(User).where(User.id == self.user_id).values(**values))
            db.session.commit()

    def end_sessions(self) -> None:
        with self.app.app_context():
            db.session.execute(update(UserSession).values(ended_at=self.clock()))
            db.session.commit()

    def state(self) -> list[tuple]:
        """What the requests left: per grant minted, its code spent or not, its tokens and how
        many are revoked."""
        with self.app.app_context():
            rows = []
            for grant_id in self.grants:
                spent = db.session.scalars(select(AuthorizationCode.consumed_at.is_not(None))
                                           .where(AuthorizationCode.grant_id == grant_id)).all()
                tokens = db.session.scalars(select(Token).where(Token.grant_id == grant_id)).all()
                rows.append((spent, len(tokens), sum(token.revoked_at is not None for token in tokens)))
            return rows


def basic(client, secret=None, client_id=None) -> dict[str, str]:
    raw = f"{client_id or client.client_id}:{secret or client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def code_body(code, **changes):
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": PKCE_VERIFIER}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def redeemed(w, code, client=None) -> None:
    client = client or w.rp
    assert w.http.post("/token", data=code_body(code), headers=basic_auth(client)).status_code == 200


def first_refresh(w):
    """A refresh token already rotated once (its successor is live)."""
    old = w.refresh_token()
    response = w.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": old}, headers=basic_auth(w.rp))
    assert response.status_code == 200
    return old


# Each scenario: (name, lean path expected to answer, function(world) -> (path, body, headers)).
SCENARIOS = [
    # Authorization code ---------------------------------------------------------------------
    ("code", True, lambda w: ("/token", code_body(w.code()), basic_auth(w.rp))),
    ("code, scope openid only", True, lambda w: ("/token", code_body(w.code(scope="openid")), basic_auth(w.rp))),
    ("code, no openid", True, lambda w: ("/token", code_body(w.code(scope="profile")), basic_auth(w.rp))),
    ("code, client_secret_post", True, lambda w: ("/token", code_body(
        w.code(w.post), client_id=w.post.client_id, client_secret=w.post.client_secret), {})),
    ("code, public client", True, lambda w: ("/token", code_body(w.code(w.public), client_id=w.public.client_id), {})),
    ("code, client without refresh_token grant", True, lambda w: ("/token", code_body(w.code(w.no_refresh)),
                                                                   basic_auth(w.no_refresh))),
    ("code, no PKCE (confidential)", True, lambda w: ("/token", code_body(w.code(challenge=None), code_verifier=None),
                                                      basic_auth(w.rp))),
    ("code, client_id in the body too", True, lambda w: ("/token", code_body(w.code(), client_id=w.rp.client_id),
                                                          basic_auth(w.rp))),
    ("code, wrong redirect_uri", False, lambda w: ("/token", code_body(w.code(), redirect_uri=REDIRECT_URI + "x"),
                                                   basic_auth(w.rp))),
    ("code, no redirect_uri", False, lambda w: ("/token", code_body(w.code(), redirect_uri=None), basic_auth(w.rp))),
    ("code, wrong verifier", False, lambda w: ("/token", code_body(w.code(), code_verifier=PKCE_VERIFIER[::-1]),
                                               basic_auth(w.rp))),
    ("code, malformed verifier", False, lambda w: ("/token", code_body(w.code(), code_verifier="short"), basic_auth(w.rp))),
    ("code, verifier with a newline", False, lambda w: ("/token", code_body(w.code(), code_verifier=PKCE_VERIFIER + "\n"),
                                                        basic_auth(w.rp))),
    ("code, no verifier", False, lambda w: ("/token", code_body(w.code(), code_verifier=None), basic_auth(w.rp))),
    ("code, verifier without challenge", False, lambda w: ("/token", code_body(w.code(challenge=None)), basic_auth(w.rp))),
    ("code, public client without PKCE", False, lambda w: ("/token", code_body(
        w.code(w.public, challenge=None), code_verifier=None, client_id=w.public.client_id), {})),
    ("code, unknown", False, lambda w: ("/token", code_body("not-a-code"), basic_auth(w.rp))),
    ("code, empty", False, lambda w: ("/token", code_body(""), basic_auth(w.rp))),
    ("code, missing", False, lambda w: ("/token", code_body(None), basic_auth(w.rp))),
    ("code, spent: reuse revokes the grant", False, lambda w: spent_code(w)),
    ("code, expired", False, lambda w: expired_code(w)),
    ("code, another client's", False, lambda w: ("/token", code_body(w.code(w.other)), basic_auth(w.rp))),
    ("code, session ended", False, lambda w: ended_session_code(w)),
    ("code, person disabled", False, lambda w: disabled_person_code(w)),
    ("code, person not activated", False, lambda w: not_activated_code(w)),
    ("code, wrong secret", False, lambda w: ("/token", code_body(w.code()), basic(w.rp, secret="wrong"))),
    ("code, unknown client", False, lambda w: ("/token", code_body(w.code()), basic(w.rp, client_id="nobody"))),
    ("code, undecodable basic", False, lambda w: ("/token", code_body(w.code()), {"Authorization": "Basic %%%"})),
    # Authlib authenticates the public client ("none") whatever the Authorization header says.
    ("code, bearer header", False, lambda w: ("/token", code_body(w.code(w.public), client_id=w.public.client_id),
                                              {"Authorization": "Bearer abc"})),
    ("code, body client_id names another client", False, lambda w: ("/token", code_body(
        w.code(), client_id=w.other.client_id), basic_auth(w.rp))),
    ("code, basic and client_secret", False, lambda w: ("/token", code_body(
        w.code(), client_secret=w.rp.client_secret), basic_auth(w.rp))),
    ("code, post client authenticating with basic", False, lambda w: ("/token", code_body(w.code(w.post)),
                                                                      basic_auth(w.post))),
    ("code, post client without secret", False, lambda w: ("/token", code_body(w.code(w.post), client_id=w.post.client_id),
                                                           {})),
    ("code, confidential client without credentials", False, lambda w: ("/token", code_body(
        w.code(), client_id=w.rp.client_id), {})),
    ("code, public client with a secret", False, lambda w: ("/token", code_body(
        w.code(w.public), client_id=w.public.client_id, client_secret="x"), {})),
    ("code, client not allowed the grant", False, lambda w: ("/token", code_body("abc"), basic_auth(w.machine))),
    ("code, parameter in the query", False, lambda w: ("/token?scope=openid", code_body(w.code()), basic_auth(w.rp))),
    ("code, assertion parameters", False, lambda w: ("/token", code_body(
        w.code(), client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), basic_auth(w.rp))),
    ("code, malformed DPoP proof", False, lambda w: ("/token", code_body(w.code()), {**basic_auth(w.rp), "DPoP": "x.y.z"})),
    ("unsupported grant_type", False, lambda w: ("/token", {"grant_type": "password", "username": "a", "password": "b"},
                                                 basic_auth(w.rp))),
    # Refresh token --------------------------------------------------------------------------
    ("refresh", True, lambda w: ("/token", {"grant_type": "refresh_token", "refresh_token": w.refresh_token()},
                                 basic_auth(w.rp))),
    ("refresh, narrower scope", True, lambda w: ("/token", {"grant_type": "refresh_token", "scope": "offline_access",
                                                            "refresh_token": w.refresh_token()}, basic_auth(w.rp))),
    ("refresh, public client", True, lambda w: ("/token", {"grant_type": "refresh_token", "client_id": w.public.client_id,
                                                           "refresh_token": w.refresh_token(w.public)}, {})),
    ("refresh, confidential client's DPoP-bound token without proof", True, lambda w: (
        "/token", {"grant_type": "refresh_token", "refresh_token": w.refresh_token(dpop_jkt="thumbprint")},
        basic_auth(w.rp))),
    ("refresh, wider scope", False, lambda w: ("/token", {"grant_type": "refresh_token", "scope": "openid profile",
                                                          "refresh_token": w.refresh_token()}, basic_auth(w.rp))),
    ("refresh, rotated: reuse revokes the grant", False, lambda w: (
        "/token", {"grant_type": "refresh_token", "refresh_token": first_refresh(w)}, basic_auth(w.rp))),
    ("refresh, unknown", False, lambda w: ("/token", {"grant_type": "refresh_token", "refresh_token": "nope"},
                                           basic_auth(w.rp))),
    ("refresh, missing", False, lambda w: ("/token", {"grant_type": "refresh_token"}, basic_auth(w.rp))),
    ("refresh, another client's", False, lambda w: ("/token", {"grant_type": "refresh_token",
                                                               "refresh_token": w.refresh_token(w.other)}, basic_auth(w.rp))),
    ("refresh, person disabled", False, lambda w: disabled_person_refresh(w)),
    ("refresh, session ended without offline_access", False, lambda w: ended_session_refresh(w)),
    ("refresh, public client's DPoP-bound token without proof", False, lambda w: (
        "/token", {"grant_type": "refresh_token", "client_id": w.public.client_id,
                   "refresh_token": w.refresh_token(w.public, dpop_jkt="thumbprint")}, {})),
    ("refresh, client without the grant", False, lambda w: ("/token", {"grant_type": "refresh_token",
                                                                       "refresh_token": "x"}, basic_auth(w.no_refresh))),
    # Client credentials ---------------------------------------------------------------------
    ("client_credentials", True, lambda w: ("/token", {"grant_type": "client_credentials"}, basic_auth(w.machine))),
    ("client_credentials, API scope", True, lambda w: ("/token", {"grant_type": "client_credentials",
                                                                  "scope": "invitations"}, basic_auth(w.rp))),
    ("client_credentials, client_secret_post", True, lambda w: ("/token", {
        "grant_type": "client_credentials", "client_id": w.machine_post.client_id,
        "client_secret": w.machine_post.client_secret}, {})),
    ("client_credentials, basic client sending its secret in the body", False, lambda w: ("/token", {
        "grant_type": "client_credentials", "client_id": w.machine.client_id, "client_secret": w.machine.client_secret}, {})),
    ("client_credentials, a person's scope", False, lambda w: ("/token", {"grant_type": "client_credentials",
                                                                          "scope": "openid"}, basic_auth(w.rp))),
    ("client_credentials, scope not the client's", False, lambda w: ("/token", {"grant_type": "client_credentials",
                                                                                "scope": "organizations"}, basic_auth(w.rp))),
    ("client_credentials, public client", False, lambda w: ("/token", {"grant_type": "client_credentials",
                                                                       "client_id": w.public.client_id}, {})),
    ("client_credentials, client without the grant", False, lambda w: ("/token", {"grant_type": "client_credentials"},
                                                                       basic_auth(w.no_refresh))),
    ("client_credentials, wrong secret", False, lambda w: ("/token", {"grant_type": "client_credentials"},
                                                           basic(w.machine, secret="nope"))),
]


def spent_code(w):
    code = w.code()
    redeemed(w, code)
    return "/token", code_body(code), basic_auth(w.rp)


def expired_code(w):
    code = w.code()
    w.clock.advance(w.app.config["OIDC_AUTHORIZATION_CODE_TTL"] + 1)
    return "/token", code_body(code), basic_auth(w.rp)


def ended_session_code(w):
    code = w.code()
    w.end_sessions()
    return "/token", code_body(code), basic_auth(w.rp)


def disabled_person_code(w):
    code = w.code()
    w.set_person(disabled_at=w.clock())
    return "/token", code_body(code), basic_auth(w.rp)


def not_activated_code(w):
    code = w.code()
    w.set_person(activated_at=None)
    return "/token", code_body(code), basic_auth(w.rp)


def disabled_person_refresh(w):
    token = w.refresh_token()
    w.set_person(disabled_at=w.clock())
    return "/token", {"grant_type": "refresh_token", "refresh_token": token}, basic_auth(w.rp)


def ended_session_refresh(w):
    token = w.refresh_token(scope="openid profile")
    w.end_sessions()
    return "/token", {"grant_type": "refresh_token", "refresh_token": token}, basic_auth(w.rp)


class Answers:
    """Sends a scenario's request on fresh state, through the lean path or without it."""

    def __init__(self, app, clock, monkeypatch):
        self.app, self.clock, self.monkeypatch = app, clock, monkeypatch
        self.lean_answers = 0
        self.before_flask = 0
        original = token_endpoint.lean_token_answer

        def counted(*args, **kwargs):
            answer = original(*args, **kwargs)
            self.lean_answers += answer is not None
            self.before_flask += answer is not None and not has_request_context()
            return answer

        self.counted = counted

    def run(self, scenario, lean: bool):
        with self.app.app_context():
            db.session.execute(update(User).values(disabled_at=None, activated_at=self.clock()))
            db.session.commit()
        w = self.world
        w.grants = []
        start = self.clock.now
        with self.monkeypatch.context() as patch:
            patch.setattr(token_endpoint, "lean_token_answer", self.counted if lean else (lambda *args, **kwargs: None))
            path, body, headers = scenario(w)
            before, before_flask = self.lean_answers, self.before_flask
            response = w.http.post(path, data=body, headers=headers)
            answered_lean = self.lean_answers > before
            # The lean path's answers come from idp.oidc.token_server, before Flask.
            assert self.before_flask - before_flask == self.lean_answers - before
        self.clock.now = start
        return response, w.state(), answered_lean

    @property
    def world(self):
        if not hasattr(self, "_world"):
            self._world = World(self.app, self.clock)
        return self._world


def comparable(w, response) -> dict:
    """What must be the same on both paths."""
    seen = {"status": response.status_code, "headers": {name: response.headers.get(name) for name in COMPARED_HEADERS}}
    if response.status_code != 200:
        seen["body"] = response.get_data()
        return seen
    body = response.get_json()
    seen["members"] = sorted(body)
    seen["values"] = {key: body[key] for key in ("token_type", "scope", "expires_in") if key in body}
    if "id_token" in body:
        claims = decode_id_token(w.http, body["id_token"])
        seen["id_token"] = sorted(claims), {key: claims.get(key) for key in ("iss", "aud", "azp", "nonce", "acr", "amr", "sub")}
    return seen


@pytest.mark.parametrize("name, lean, scenario", SCENARIOS, ids=[name for name, _, _ in SCENARIOS])
def test_the_lean_path_answers_as_authlib_grants_do(app, clock, monkeypatch, name, lean, scenario):
    answers = Answers(app, clock, monkeypatch)
    before, before_state, _ = answers.run(scenario, lean=False)
    after, after_state, answered_lean = answers.run(scenario, lean=True)
    assert comparable(answers.world, after) == comparable(answers.world, before)
    assert after_state == before_state
    assert answered_lean is lean
    assert after.headers["Cache-Control"] == "no-store"


# A concurrent request spends the code or refresh token between the read and the UPDATE -----

def spend_meanwhile(w, column_values, table):
    """An active_person stand-in that spends the secret the request is about, as a request
    on another worker would between this one's read and its UPDATE."""

    def person(found_person):
        db.session.connection().execute(update(table).values(**column_values))
        return found_person

    return person


@pytest.mark.parametrize("lean", [False, True], ids=["authlib", "lean"])
def test_a_code_spent_meanwhile_gets_invalid_grant_and_revokes_its_grant(app, clock, monkeypatch, lean):
    w = World(app, clock)
    code = w.code()
    redeemed_by_other = w.code()  # the same grant's code on "another worker": tokens to revoke
    other_grant = w.grants[-1]
    redeemed(w, redeemed_by_other)
    with app.app_context():
        db.session.execute(update(AuthorizationCode).where(AuthorizationCode.grant_id == other_grant)
                           .values(grant_id=w.grants[0]))
        db.session.execute(update(Token).where(Token.grant_id == other_grant).values(grant_id=w.grants[0]))
        db.session.commit()
    w.grants = w.grants[:1]
    stand_in = spend_meanwhile(w, {"consumed_at": clock()}, AuthorizationCode)
    monkeypatch.setattr(grants, "active_person", stand_in)
    monkeypatch.setattr(token_endpoint, "active_person", stand_in)
    if not lean:
        monkeypatch.setattr(token_endpoint, "lean_token_answer", lambda *args, **kwargs: None)
    response = w.http.post("/token", data=code_body(code), headers=basic_auth(w.rp))
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_grant", "error_description": "Invalid 'code' in request."}
    assert response.headers["Cache-Control"] == "no-store"
    # The one winner's tokens are revoked: the code was presented twice (RFC 6749 §4.1.2).
    assert w.state() == [([True, True], 1, 1)]


@pytest.mark.parametrize("lean", [False, True], ids=["authlib", "lean"])
def test_a_refresh_token_rotated_meanwhile_gets_invalid_grant_and_revokes_its_grant(app, clock, monkeypatch, lean):
    w = World(app, clock)
    token = w.refresh_token()
    stand_in = spend_meanwhile(w, {"rotated_at": clock()}, Token)
    monkeypatch.setattr(grants, "active_person", stand_in)
    monkeypatch.setattr(token_endpoint, "active_person", stand_in)
    if not lean:
        monkeypatch.setattr(token_endpoint, "lean_token_answer", lambda *args, **kwargs: None)
    response = w.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": token},
                           headers=basic_auth(w.rp))
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_grant",
                                   "error_description": "The refresh token is invalid, expired or revoked."}
    assert w.state() == [([], 1, 1)]


# The write lock is held for the statements alone --------------------------------------------

@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
def test_the_lean_path_mints_and_signs_before_its_first_write(app, clock, monkeypatch, grant):
    """SQLite has one write lock for every worker, taken by the spending UPDATE and held to
    the commit: the tokens are minted and the ID token signed before it, not while other
    workers wait (docs/performance.md)."""
    w = World(app, clock)
    if grant == "authorization_code":
        body, spend = code_body(w.code()), "spend_code_hash"
    else:
        body, spend = {"grant_type": "refresh_token", "refresh_token": w.refresh_token()}, "rotate_refresh_token_hash"
    steps: list[str] = []
    server = app.extensions["oidc_server"]

    def logged(name, function):
        def step(*args, **kwargs):
            steps.append(name)
            return function(*args, **kwargs)
        return step

    service = type(server.tokens())
    for name in ("mint", "spend_code_hash", "rotate_refresh_token_hash", "record"):
        monkeypatch.setattr(service, name, logged(name, getattr(service, name)))
    monkeypatch.setattr(server, "sign_id_token", logged("sign", server.sign_id_token))
    response = w.http.post("/token", data=body, headers=basic_auth(w.rp))
    assert response.status_code == 200 and "id_token" in response.get_json()
    assert steps == ["mint", "sign", spend, "record"]
