"""Front-Channel Logout 1.0 (issue 14): the signed-out page loads each connected client's
frontchannel_logout_uri in an iframe (with iss and sid when the client asked), its policy
frames only those origins, and the page says everything without them."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from idp.extensions import db
from idp.signin.models import UserSession
from tests.logout_support import logout_client, sign_in_to
from tests.oidc_support import (
    PKCE_VERIFIER,
    basic_auth,
    csrf_token,
    make_client,
    make_user,
)

ISSUER = "http://127.0.0.1:5000"


def frames(page: str) -> list[str]:
    return [html.unescape(src) for src in re.findall(r'<iframe src="([^"]+)"', page)]


def sign_out(client):
    page = client.get("/signout")
    return client.post("/signout", data={"csrf_token": csrf_token(page.text)})


def current_sid(app) -> str:
    with app.app_context():
        return db.session.query(UserSession.sid).one()[0]


def test_the_signed_out_page_loads_each_front_channel_uri_with_iss_and_sid(app, client):
    make_user(app)
    with_session = logout_client(app, "Portail A", frontchannel="https://a.example/fc-logout?lang=fr")
    without_session = make_client_without_session(app)
    plain = logout_client(app, "Portail C")
    sign_in_to(client, with_session, without_session, plain)
    sid = current_sid(app)
    response = sign_out(client)
    assert response.status_code == 200
    loaded = frames(response.text)
    assert len(loaded) == 2
    first = urlsplit(loaded[0])
    assert (first.scheme, first.netloc, first.path) == ("https", "a.example", "/fc-logout")
    assert parse_qs(first.query) == {"lang": ["fr"], "iss": [ISSUER], "sid": [sid]}
    assert loaded[1] == "https://b.example/fc-logout"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-src https://a.example https://b.example" in policy and "frame-ancestors 'none'" in policy
    assert "<h1>Votre session est fermée</h1>" in response.text  # French by default
    assert client.get("/account").status_code in (302, 303)  # the session did end


def make_client_without_session(app):
    return make_client(app, name="Portail B", frontchannel_logout_uri="https://b.example/fc-logout")


def test_without_front_channel_clients_nothing_changes(app, client):
    make_user(app)
    sign_in_to(client, logout_client(app, "Portail C"))
    response = sign_out(client)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "<iframe" not in page.text and "frame-src" not in page.headers["Content-Security-Policy"]


def test_rp_initiated_logout_shows_the_iframes_then_returns_with_the_state(app, client):
    make_user(app)
    rp = logout_client(app, "Portail A", frontchannel="https://rp.example/fc-logout")
    code = sign_in_to(client, rp)[0]["code"]
    sid = current_sid(app)
    id_token = client.post("/token", headers=basic_auth(rp), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": PKCE_VERIFIER}).get_json()["id_token"]
    response = client.get("/logout", query_string={"id_token_hint": id_token, "state": "xyz",
                                                   "post_logout_redirect_uri": "https://rp.example/signed-out"})
    assert response.status_code == 200
    assert frames(response.text) == [f"https://rp.example/fc-logout?iss={ISSUER.replace(':', '%3A').replace('/', '%2F')}&sid={sid}"]
    link = html.unescape(re.search(r'<a href="([^"]+)" id="frontchannel-continue"', response.text).group(1))
    assert link == "https://rp.example/signed-out?state=xyz"
    assert "js/frontchannel-logout.js" in response.text
    assert "frame-src https://rp.example" in response.headers["Content-Security-Policy"]
