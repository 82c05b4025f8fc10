"""What each side learns (issue 5, the privacy promises) and the level a partner's sign-in
reaches (its acr mapped to Passerelle's, step-up otherwise)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from idp.extensions import db
from idp.federation.models import PartnerLink
from idp.signin.assurance import ACR_MFA
from tests.federation_support import TamperingSession, resign
from tests.integration.federation.test_broker import finish_at_broker, partner_signin
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import (
    authorization_params,
    csrf_token,
    make_client,
    pkce_pair,
    query_of,
)

# OIDC Core §2 and what Passerelle adds (sid, at_hash): an ID token with nothing else.
ID_TOKEN_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash"}
PARTNER_REQUEST_PARAMETERS = {
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method",
    "ui_locales",  # the language the person reads Passerelle in
}


def tokens_for(http, rp, result, verifier):
    body = exchange(http, rp, result["code"], verifier).get_json()
    claims = decode_id_token(http, body["id_token"])
    info = http.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    return claims, info


def test_privacy_promises_hold_both_ways(broker, http, partner):
    rp = make_client(broker, name="Portail des impôts")
    params, verifier, to_partner, done = partner_signin(http, partner, rp, scope="openid email profile phone address")

    # The partner learns nothing of the relying party: only these parameters, none naming it.
    sent = query_of(to_partner.headers["Location"])
    assert set(sent) == PARTNER_REQUEST_PARAMETERS
    assert sent["client_id"] == partner.client_id and sent["scope"] == "openid"
    assert sent["redirect_uri"] == "http://127.0.0.1:5000/signin/partners/callback"
    assert sent["ui_locales"] in ("fr", "en")
    text = to_partner.headers["Location"]
    for clue in (rp.client_id, quote(rp.redirect_uri, safe=""), urlsplit(rp.redirect_uri).hostname, "Portail", params["state"], params["nonce"]):
        assert clue not in text.replace(partner.issuer, "")

    # The relying party learns nothing the partner knows: its own pairwise subject and the level.
    claims, info = tokens_for(http, rp, query_of(done.headers["Location"]), verifier)
    with broker.app_context():
        link = db.session.query(PartnerLink).one()
        partner_subject, partner_issuer = link.subject, link.issuer
    assert set(claims) <= ID_TOKEN_CLAIMS
    # Only what Passerelle itself knows: when the account was made, and that no address is verified.
    assert set(info) <= {"sub", "email_verified", "updated_at"} and info.get("email_verified") is not True
    for value in [*claims.values(), *info.values()]:
        assert partner_subject not in str(value) and partner_issuer not in str(value)
    assert claims["sub"] != partner_subject

    # A second relying party sees another subject for the same person (pairwise, by sector).
    other = make_client(broker, name="Autre portail", redirect_uris=["https://autre.example/callback"])
    verifier2, challenge2 = pkce_pair()
    start = http.get("/authorize", query_string=authorization_params(
        other, code_challenge=challenge2, code_challenge_method="S256"))
    done2 = finish_at_broker(http, start)
    assert done2.headers["Location"].startswith(other.redirect_uri)
    claims2, _ = tokens_for(http, other, query_of(done2.headers["Location"]), verifier2)
    assert claims2["sub"] != claims["sub"] and claims2["sub"] != partner_subject


def test_a_partner_asserting_two_factor_satisfies_a_client_requiring_it(broker, http, partner):
    broker.extensions["idp_partner_http"] = TamperingSession(
        lambda body: {**body, "id_token": resign(partner, body["id_token"], acr="urn:passerelle:acr:mfa")}
    )
    rp = make_client(broker)
    _, verifier, _, done = partner_signin(http, partner, rp, acr_values=ACR_MFA)
    assert done.headers["Location"].startswith(rp.redirect_uri)
    claims, _ = tokens_for(http, rp, query_of(done.headers["Location"]), verifier)
    assert claims["acr"] == ACR_MFA and claims["amr"] == ["fed", "mfa"]


def test_below_the_required_level_a_partner_only_account_is_told_and_the_client_gets_unmet(broker, http, partner):
    rp = make_client(broker)
    _, _, _, stopped = partner_signin(http, partner, rp, acr_values=ACR_MFA)
    # No two-factor set-up for a partner's sign-in: the step-up finds no Passerelle factor.
    assert stopped.status_code == 200
    page = stopped.get_data(as_text=True)
    assert "/signin/second-factor/unavailable" in page
    back = http.post("/signin/second-factor/unavailable", data={"csrf_token": csrf_token(page)})
    done = finish_at_broker(http, back)
    assert query_of(done.headers["Location"])["error"] == "unmet_authentication_requirements"
