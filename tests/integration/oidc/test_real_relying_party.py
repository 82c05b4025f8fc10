"""A relying party built on a real OIDC client library (Authlib's Flask client, the demo RP)
signs in against Passerelle served over HTTP: discovery, code + PKCE, ID token validation,
userinfo, refresh, revocation and RP-initiated logout."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from clients.demo_rp import create_app as create_rp
from tests.institution_portal_support import follow_passerelle
from tests.oidc_support import PKCE_CHALLENGE, make_client, make_user

RP_ORIGIN = "http://127.0.0.1:5001"


def follow_idp(browser: requests.Session, url: str) -> str:
    """Act as the browser at the IdP: sign in when asked; return the URL it sends us back to."""
    return follow_passerelle(browser, url, "zoe@example.ca", clock=None, origin=RP_ORIGIN)


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_authlib_relying_party_full_lifecycle(live_server):
    make_user(live_server.app)
    registration = make_client(live_server.app, name="Demo RP", redirect_uris=[RP_ORIGIN + "/callback"],
                               post_logout_redirect_uris=[RP_ORIGIN + "/"])
    rp = create_rp(live_server.url, registration.client_id, registration.client_secret, RP_ORIGIN + "/callback",
                   config={"WTF_CSRF_ENABLED": False, "TESTING": True})
    rp_browser = rp.test_client()
    idp_browser = requests.Session()

    start = rp_browser.post("/login")
    assert start.status_code == 302 and start.headers["Location"].startswith(live_server.url + "/authorize")
    assert "code_challenge_method=S256" in start.headers["Location"]
    back = follow_idp(idp_browser, start.headers["Location"])
    done = rp_browser.get(local(back))
    assert done.status_code == 302 and done.headers["Location"].endswith("/claims"), done.get_data(as_text=True)[:300]
    page = rp_browser.get("/claims").get_data(as_text=True)
    assert "zoe@example.ca" in page and "Citoyenne" in page

    with rp_browser.session_transaction() as rp_session:
        first_tokens = dict(rp_session["tokens"])
    refreshed = rp_browser.post("/refresh")
    assert refreshed.status_code == 302 and refreshed.headers["Location"].endswith("/claims")
    with rp_browser.session_transaction() as rp_session:
        assert rp_session["tokens"]["refresh_token"] != first_tokens["refresh_token"]
        latest_access = rp_session["tokens"]["access_token"]

    logout = rp_browser.post("/logout")
    assert logout.headers["Location"].startswith(live_server.url + "/logout")
    back = follow_idp(idp_browser, logout.headers["Location"])
    home = rp_browser.get(local(back), follow_redirects=True)
    assert home.status_code == 200
    # The RP revoked its refresh token (its grant) and the IdP session is gone.
    assert requests.get(live_server.url + "/userinfo", headers={"Authorization": f"Bearer {latest_access}"}, timeout=30).status_code == 401
    again = idp_browser.get(live_server.url + "/authorize", params={"client_id": registration.client_id, "response_type": "code",
                            "redirect_uri": RP_ORIGIN + "/callback", "scope": "openid", "prompt": "none",
                                                                  "code_challenge": PKCE_CHALLENGE, "code_challenge_method": "S256"},
                            allow_redirects=False, timeout=30)
    assert re.search(r"error=login_required", again.headers["Location"])
