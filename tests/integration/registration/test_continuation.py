"""Where a person goes once registered: this browser's pending sign-in (a relying party's),
else the inviting client's initiate_login_uri with iss and login_hint (OIDC Core §4), else
the account home."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from idp.extensions import db
from idp.oidc.models import Client
from tests.integration.registration.support import EMAIL, csrf, invitation_code, invitation_link, invite
from tests.integration.registration.test_code_journey import code_form_data, confirm_with_code
from tests.integration.registration.test_link_journey import almost_there, fill_link_form
from tests.mail_support import code_in, path_of_link
from tests.oidc_support import authorization_params, make_client

LOGIN_URI = "https://rp.example/login?from=passerelle"


def client_with_login_uri(app):
    rp = make_client(app)
    with app.app_context():
        db.session.query(Client).filter_by(client_id=rp.client_id).one().initiate_login_uri = LOGIN_URI
        db.session.commit()
    return rp


def activate_by_link(app, client, mailbox, **invite_options):
    invite(app, locale="en", **invite_options)
    fill_link_form(client, invitation_link(mailbox))
    activate = path_of_link(mailbox.wait_for(EMAIL, count=2), "/register/activate/")
    page = client.get(activate)
    assert client.post(activate, data={"csrf_token": csrf(page.text)}).status_code == 303


def test_link_journey_goes_to_the_inviting_clients_login_uri_signed_in(app, client, mailbox):
    rp = client_with_login_uri(app)
    activate_by_link(app, client, mailbox, client_id=rp.client_id)
    page = client.get("/register/password")
    assert "form-action" not in page.headers["Content-Security-Policy"]  # it ends at the client
    done = almost_there(client)
    location = urlsplit(done.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://rp.example/login"
    assert parse_qs(location.query) == {"from": ["passerelle"], "iss": ["http://127.0.0.1:5000"], "login_hint": [EMAIL]}
    assert client.get("/account").status_code == 200  # signed in at Passerelle


def test_link_journey_carries_on_with_the_browsers_pending_signin(app, client, mailbox):
    rp = make_client(app)
    assert client.get("/authorize", query_string=authorization_params(rp)).headers["Location"] == "/signin"
    activate_by_link(app, client, mailbox)
    done = almost_there(client)
    # The sign-in carries on after its password step: the flow asks what remains (the
    # emailed code, issue 3), and that session ends at the relying party.
    assert done.status_code == 303 and done.headers["Location"].startswith("/signin/")
    assert done.headers["Location"] != "/signin"


def test_code_journey_goes_to_the_inviting_clients_login_uri(app, client, mailbox):
    rp = client_with_login_uri(app)
    invite(app, kind="code", locale="en", client_id=rp.client_id)
    page = client.get("/register/code")
    client.post("/register/code", data=code_form_data(client, page, invitation_code(mailbox.wait_for(EMAIL))))
    confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=2)))
    onward = client.get("/register/signin")
    assert onward.status_code == 303 and onward.headers["Location"].startswith("https://rp.example/login?")
    assert "login_hint=zoe%40example.ca" in onward.headers["Location"]
    assert client.get("/register/signin").headers["Location"] == "/signin"  # used once
