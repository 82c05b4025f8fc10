"""The OP set-up the conformance plans expect (§3.2, §3.4): one user with every claim we
hold, client1 and client2 (client_secret_basic) and client3 (client_secret_post)."""

from __future__ import annotations

import pytest

from idp.accounts.models import User
from idp.extensions import db
from tests.oidc_support import make_client, make_user

CALLBACK = "https://suite.example/test/a/passerelle/callback"
POST_LOGOUT = "https://suite.example/test/a/passerelle/post_logout_redirect"


@pytest.fixture
def op(app):
    user_id = make_user(app, phone_number="+15145550100")
    with app.app_context():
        user = db.session.get(User, user_id)
        user.address = {"street_address": "1 rue Principale", "locality": "Québec", "region": "QC",
                        "postal_code": "G1A 1A1", "country": "CA", "formatted": "1 rue Principale, Québec QC G1A 1A1"}
        user.phone_number_verified = True
        user.locale = "fr-CA"
        db.session.commit()
    common = {"redirect_uris": [CALLBACK], "post_logout_redirect_uris": [POST_LOGOUT]}
    return {
        "client1": make_client(app, name="Client 1", **common),
        "client2": make_client(app, name="Client 2", **common),
        "client3": make_client(app, name="Client 3", auth_method="client_secret_post", **common),
    }


@pytest.fixture(params=["query", "form_post"], ids=["basic", "form_post"])
def mode(request):
    return request.param
