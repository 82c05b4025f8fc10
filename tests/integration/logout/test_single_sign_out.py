"""Single sign-out through real HTTP (issue 14, Done when): one Passerelle session signs in
to the institution portal and the demo relying party, each served on loopback; signing out
at Passerelle and one pass of `idp worker` end the portal's session and the demo RP's."""

from __future__ import annotations

import re

import pytest
import requests

from clients.demo_rp import create_app as create_demo_rp
from clients.institution_portal.db import db as portal_db
from clients.institution_portal.models import PortalSession
from idp.ops.worker import Worker
from tests.institution_portal_support import (
    add_authenticator_app,
    build_portal,
    follow_passerelle,
    local,
    register_portal,
)
from tests.logout_support import deliveries
from tests.oidc_support import csrf_token, make_client
from tests.orgs_access_support import SECONDARY_EMAIL, dli_with_members
from tests.support import LiveServer


@pytest.fixture
def portal_server(live_server, tmp_path):
    server = LiveServer()
    registration = register_portal(live_server.app, origin=server.url,
                                   backchannel_logout_uri=f"{server.url}/backchannel-logout",
                                   backchannel_logout_session_required=True)
    server.start(build_portal(live_server.url, registration, tmp_path / "portal.db", origin=server.url,
                              WTF_CSRF_ENABLED=False, TESTING=True))
    yield server
    server.stop()


@pytest.fixture
def demo_rp_server(live_server):
    server = LiveServer()
    registration = make_client(live_server.app, name="Demo relying party", redirect_uris=[f"{server.url}/callback"],
                               post_logout_redirect_uris=[f"{server.url}/"],
                               backchannel_logout_uri=f"{server.url}/backchannel-logout",
                               backchannel_logout_session_required=True)
    server.start(create_demo_rp(live_server.url, registration.client_id, registration.client_secret,
                                f"{server.url}/callback", secret_key="insecure-test-rp-key"))
    yield server
    server.stop()


def test_signing_out_at_passerelle_ends_the_portal_and_demo_rp_sessions(live_server, portal_server, demo_rp_server,
                                                                      clock):
    dli = dli_with_members(live_server.app)
    secret = add_authenticator_app(live_server.app, dli.members[SECONDARY_EMAIL], clock)
    at_passerelle = requests.Session()  # one browser: one Passerelle session for both

    portal = portal_server.app.test_client()
    start = portal.post("/login", data={"via": "passerelle"})
    back = follow_passerelle(at_passerelle, start.headers["Location"], SECONDARY_EMAIL, clock, secret,
                             origin=portal_server.url)
    assert portal.get(local(back)).status_code == 302
    portal.post("/terms", data={"decision": "accept"})
    assert portal.get("/").status_code == 200

    demo_rp = demo_rp_server.app.test_client()
    home = demo_rp.get("/")
    start = demo_rp.post("/login", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', home.text)[1]})
    back = follow_passerelle(at_passerelle, start.headers["Location"], SECONDARY_EMAIL, clock, secret,
                             origin=demo_rp_server.url)
    assert demo_rp.get(local(back)).headers["Location"].endswith("/claims")
    assert demo_rp.get("/claims").status_code == 200

    page = at_passerelle.get(f"{live_server.url}/signout", timeout=30)
    signed_out = at_passerelle.post(f"{live_server.url}/signout", data={"csrf_token": csrf_token(page.text)},
                                    timeout=30)
    assert signed_out.status_code == 200
    assert portal.get("/").status_code == 200 and demo_rp.get("/claims").status_code == 200  # not yet: the worker tells

    Worker(live_server.app, jobs=("logout",)).run_once()
    assert sorted(delivery.state for delivery in deliveries(live_server.app)) == ["delivered", "delivered"]
    assert portal.get("/").headers["Location"].endswith("/login")
    with portal_server.app.app_context():
        assert portal_db.session.query(PortalSession).count() == 0
    assert demo_rp.get("/claims").headers["Location"].endswith("/")
