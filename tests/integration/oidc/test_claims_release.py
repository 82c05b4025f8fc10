"""The `claims` parameter (OIDC Core §5.5) selects among the claims the granted scopes
release; it never adds claims beyond them, and the consent page lists what is released."""

from __future__ import annotations

import json
from sqlalchemy import select

from idp.extensions import db
from idp.oidc.models import Consent
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import SignIn, authorization_params, csrf_token, make_client, make_user

EVERYTHING = {
    "id_token": {"email": None, "name": None, "given_name": None, "phone_number": None},
    "userinfo": {"email": None, "email_verified": None, "family_name": None, "address": None},
}


def tokens_for(app, http, rp, scope: str, claims=EVERYTHING):
    make_user(app)
    code = SignIn(http).code_for(authorization_params(rp, scope=scope, claims=json.dumps(claims)))["code"]
    response = exchange(http, rp, code)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def userinfo(http, access_token):
    return http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}).get_json()


def test_claims_parameter_releases_nothing_beyond_an_openid_only_client(app, client):
    rp = make_client(app, scope="openid")
    tokens = tokens_for(app, client, rp, scope="openid email profile")
    id_token = decode_id_token(client, tokens["id_token"])
    assert not {"email", "name", "given_name", "phone_number"} & id_token.keys()
    assert userinfo(client, tokens["access_token"]) == {"sub": id_token["sub"]}


def test_claims_parameter_releases_nothing_beyond_the_requested_scope(app, client):
    rp = make_client(app)  # may have every scope, asks only for openid
    tokens = tokens_for(app, client, rp, scope="openid")
    id_token = decode_id_token(client, tokens["id_token"])
    assert not {"email", "name", "given_name"} & id_token.keys()
    assert userinfo(client, tokens["access_token"]) == {"sub": id_token["sub"]}


def test_claims_parameter_selects_among_the_granted_scopes_claims(app, client):
    rp = make_client(app)
    tokens = tokens_for(app, client, rp, scope="openid email")
    id_token = decode_id_token(client, tokens["id_token"])
    assert id_token["email"] == "zoe@example.ca"
    assert "name" not in id_token and "given_name" not in id_token  # profile was not granted
    info = userinfo(client, tokens["access_token"])
    assert info["email"] == "zoe@example.ca" and info["email_verified"] is True
    assert "family_name" not in info and "given_name" not in info


def test_consent_page_lists_only_what_the_client_may_receive(app, client):
    make_user(app)
    rp = make_client(app, scope="openid", require_consent=True)
    params = authorization_params(rp, scope="openid email profile", claims=json.dumps(EVERYTHING))
    page = SignIn(client).authorize(params, consent=None)
    assert page.request.path == "/signin/consent"
    text = page.get_data(as_text=True)
    scope_list = text.split('class="scope-list"', 1)[1].split("</ul>", 1)[0]
    assert scope_list.count("<li>") == 1  # the identifier only: neither the email address nor the name
    assert not any(words in scope_list for words in ("courriel", "Votre nom", "email", "Your name"))
    response = client.post("/signin/consent", data={"decision": "allow", "csrf_token": csrf_token(text)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Consent.scope)) == "openid"
