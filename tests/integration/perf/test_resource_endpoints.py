"""UserInfo, introspection and revocation on their lean paths (issue 10): Core statements
and the person read with the token, with the same answers as the ORM paths they replace;
machine endpoints skip the page hooks (Flask-Limiter, CSRF) and pages keep them."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from idp.accounts.models import User
from idp.extensions import db, limiter
from idp.oidc import claims as oidc_claims
from tests.oidc_support import (
    PKCE_VERIFIER,
    SignIn,
    authorization_params,
    basic_auth,
    make_client,
    make_user,
)

FULL_SCOPE = "openid profile email phone address offline_access"


def tokens_for(client, rp, scope: str) -> dict:
    code = SignIn(client).code_for(authorization_params(rp, scope=scope))["code"]
    response = client.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                                           "code_verifier": PKCE_VERIFIER}, headers=basic_auth(rp))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_user(app, user_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()


def test_userinfo_releases_what_the_person_record_holds_for_the_scope(app, client):
    rp = make_client(app, scope=FULL_SCOPE)
    user_id = make_user(app)
    set_user(app, user_id, phone_number="+15145550123", phone_number_verified=True, locale="fr",
             address={"locality": "Québec", "country": "CA"})
    tokens = tokens_for(client, rp, FULL_SCOPE)
    body = client.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()
    with app.app_context():
        record = db.session.get(User, user_id)
        expected = oidc_claims.claims_for_scope(FULL_SCOPE, oidc_claims.user_claims(record))
    assert body == {**expected, "sub": body["sub"]}
    assert body["address"] == {"locality": "Québec", "country": "CA"} and body["phone_number_verified"] is True
    assert body["name"] == "Zoé Citoyenne" and isinstance(body["updated_at"], int)
    introspected = client.post("/introspect", data={"token": tokens["access_token"]}, headers=basic_auth(rp)).get_json()
    assert introspected["sub"] == body["sub"]


def test_userinfo_with_openid_alone_answers_the_subject_only(app, client):
    rp = make_client(app)
    make_user(app)
    tokens = tokens_for(client, rp, "openid")
    assert list(client.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()) == ["sub"]


@pytest.mark.parametrize("change", [{"disabled_at": "now"}, {"activated_at": None}])
def test_a_person_who_may_no_longer_sign_in_has_no_userinfo_and_inactive_tokens(app, client, clock, change):
    """Disabled or back to pending without the tokens being revoked (a change in flight):
    the person read with the token decides, as User.is_active did."""
    rp = make_client(app)
    user_id = make_user(app)
    tokens = tokens_for(client, rp, "openid email offline_access")
    set_user(app, user_id, **{name: clock() if value == "now" else value for name, value in change.items()})
    answer = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_token"
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert client.post("/introspect", data={"token": token}, headers=basic_auth(rp)).get_json() == {"active": False}


def test_revocation_by_access_token_refresh_token_and_foreign_client(app, client):
    rp = make_client(app)
    other = make_client(app, name="Other")
    make_user(app)
    tokens = tokens_for(client, rp, "openid offline_access")
    # Another client's token is ignored (RFC 7009 §2.2: no oracle).
    assert client.post("/revoke", data={"token": tokens["access_token"]}, headers=basic_auth(other)).status_code == 200
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
    revoked = client.post("/revoke", data={"token": tokens["access_token"], "token_type_hint": "access_token"},
                          headers=basic_auth(rp))
    assert revoked.status_code == 200 and revoked.get_json() == {}
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
    # The refresh token issued with it is in the same row, and goes with it (as before).
    assert client.post("/introspect", data={"token": tokens["refresh_token"]}, headers=basic_auth(rp)).get_json() == {
        "active": False}
    # Revoking it again, or an unknown token, answers the same.
    assert client.post("/revoke", data={"token": tokens["access_token"]}, headers=basic_auth(rp)).status_code == 200
    assert client.post("/revoke", data={"token": "unknown"}, headers=basic_auth(rp)).status_code == 200
    tokens = tokens_for(client, rp, "openid offline_access")
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers=basic_auth(rp))
    assert refreshed.status_code == 200
    # The refresh token takes its whole grant with it, the new access token included.
    assert client.post("/revoke", data={"token": refreshed.get_json()["refresh_token"]}, headers=basic_auth(rp)).status_code == 200
    assert client.get("/userinfo", headers=bearer(refreshed.get_json()["access_token"])).status_code == 401


@pytest.fixture
def forget_default_limits():
    """Flask-Limiter keeps the first RATELIMIT_DEFAULT it sees for every later app of the
    process (its extension object is global): drop it after the test."""
    yield
    limiter.limit_manager.set_default_limits([])


@pytest.mark.settings(RATELIMIT_DEFAULT="2 per hour")
def test_machine_endpoints_skip_the_page_limits_and_pages_keep_them(forget_default_limits, app, client):
    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(),
                     scope="openid")
    for _ in range(4):
        token = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp))
        assert token.status_code == 200
        plain = token.get_json()["access_token"]
        assert client.post("/introspect", data={"token": plain}, headers=basic_auth(rp)).status_code == 200
        assert client.post("/revoke", data={"token": "x"}, headers=basic_auth(rp)).status_code == 200
        assert client.get("/userinfo", headers=bearer(plain)).status_code == 403
        assert client.get("/jwks?via=flask").status_code == 200
        assert client.get("/health/live").status_code == 200
    statuses = [client.get("/signin").status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_no_default_limit_is_left_for_later_apps(client):
    assert 429 not in [client.get("/signin").status_code for _ in range(3)]


def test_csrf_still_guards_pages(app, client):
    assert client.post("/signin", data={"email": "zoe@example.ca"}).status_code == 400
