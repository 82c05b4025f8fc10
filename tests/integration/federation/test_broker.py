"""Signing in with a sign-in partner, end to end: relying party, Passerelle, the partner (a
second Passerelle on loopback) and back (issue 5, Tests)."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.federation_support import (
    back_at_broker,
    leave_for_partner,
    sign_in_at_partner,
)
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import (
    authorization_params,
    csrf_token,
    make_client,
    pkce_pair,
    query_of,
)

TERMS_PATH = "/signin/terms"


def finish_at_broker(http, response):
    """Accept the terms (and consent) at the broker until the browser leaves for the RP."""
    for _ in range(8):
        location = response.headers.get("Location", "")
        if response.status_code != 303 or location.startswith("http"):
            return response
        page = http.get(location)
        path = urlsplit(location).path
        if path in (TERMS_PATH, "/signin/consent") and page.status_code == 200:
            decision = "accept" if path == TERMS_PATH else "allow"
            response = http.post(path, data={"decision": decision, "csrf_token": csrf_token(page.get_data(as_text=True))})
        else:
            response = page
    raise AssertionError("too many redirects")


def partner_signin(http, partner, rp, **extra):
    verifier, challenge = pkce_pair()
    params = authorization_params(rp, code_challenge=challenge, code_challenge_method="S256", **extra)
    start = http.get("/authorize", query_string=params)
    assert start.status_code == 303
    to_partner = leave_for_partner(http)
    assert to_partner.status_code == 303, to_partner.get_data(as_text=True)[:300]
    back = back_at_broker(http, sign_in_at_partner(partner, to_partner.headers["Location"]))
    return params, verifier, to_partner, finish_at_broker(http, back)


def test_partner_signin_creates_a_linked_account_and_reaches_the_relying_party(broker, http, partner):
    rp = make_client(broker)
    params, verifier, _, done = partner_signin(http, partner, rp, scope="openid email profile")
    assert done.status_code == 303 and done.headers["Location"].startswith(rp.redirect_uri)
    result = query_of(done.headers["Location"])
    assert result["state"] == params["state"]
    tokens = exchange(http, rp, result["code"], verifier).get_json()
    claims = decode_id_token(http, tokens["id_token"])
    assert claims["amr"] == ["fed"] and claims["acr"] == "urn:passerelle:acr:pwd"
    info = http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert info["sub"] == claims["sub"]
    assert "email" not in info and "given_name" not in info and "name" not in info


def test_login_hint_partner_opens_the_partners_once(broker, http, partner):
    rp = make_client(broker)
    start = http.get("/authorize", query_string=authorization_params(rp, login_hint="partner"))
    assert start.headers["Location"].endswith("/signin")
    routed = http.get("/signin")
    assert routed.status_code == 303 and routed.headers["Location"].endswith("/signin/partners")
    # "Sign in with your Passerelle account instead": the password page, with no address filled in.
    page = http.get("/signin")
    assert page.status_code == 200 and 'value="partner"' not in page.get_data(as_text=True)


def test_declining_the_terms_at_the_first_partner_sign_in_keeps_no_account(broker, http, partner):
    from idp.accounts.models import User
    from idp.extensions import db
    from idp.federation.models import PartnerLink

    rp = make_client(broker)
    params = authorization_params(rp, code_challenge=pkce_pair()[1], code_challenge_method="S256")
    http.get("/authorize", query_string=params)
    back = back_at_broker(http, sign_in_at_partner(partner, leave_for_partner(http).headers["Location"]))
    assert back.headers["Location"].endswith(TERMS_PATH)
    page = http.get(TERMS_PATH)
    declined = http.post(TERMS_PATH, data={"decision": "decline", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert declined.status_code == 200
    with broker.app_context():
        assert db.session.query(User).count() == 0 and db.session.query(PartnerLink).count() == 0
    # The relying party learns the person declined.
    response = http.get("/authorize/resume")
    assert query_of(response.headers["Location"])["error"] == "access_denied"
