"""Linking a partner from the account home, after signing in with both; unlinking (issue 5).
Never by matching an address: the partner's customer has the same address as nobody here."""

from __future__ import annotations

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.federation.models import PartnerLink
from tests.federation_support import back_at_broker, sign_in_at_partner, sign_in_locally
from tests.integration.federation.test_broker import partner_signin
from tests.oidc_support import csrf_token, make_client, make_user

EMAIL = "ana@example.ca"


def links(broker):
    with broker.app_context():
        return [(link.user_id, link.partner_id) for link in db.session.query(PartnerLink).all()]


def link_partner(broker, http, partner):
    page = http.get("/account/partners")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The link buttons lead to the partner, whose pages may send the browser anywhere.
    assert "Banque Imaginaire" in html and "form-action" not in page.headers["Content-Security-Policy"]
    response = http.post("/account/partners/banque/link", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303 and response.headers["Location"].startswith(partner.issuer)
    return back_at_broker(http, sign_in_at_partner(partner, response.headers["Location"]))


def test_a_signed_in_person_links_a_partner_then_signs_in_with_it(broker, http, partner):
    user_id = make_user(broker, email=EMAIL)
    assert sign_in_locally(http, EMAIL).status_code == 200
    assert "/account/partners" in http.get("/account").get_data(as_text=True)

    done = link_partner(broker, http, partner)
    assert done.status_code == 303 and done.headers["Location"] == "/account/partners"
    assert links(broker) == [(user_id, "banque")]
    listed = http.get("/account/partners").get_data(as_text=True)
    assert "/unlink" in listed

    # Another browser, through a relying party: the partner's sign-in is this account's.
    other = broker.test_client()
    rp = make_client(broker)
    _, _, _, finished = partner_signin(other, partner, rp)
    assert finished.headers["Location"].startswith(rp.redirect_uri)
    with broker.app_context():
        assert db.session.query(User).count() == 1


def test_unlinking_removes_the_link(broker, http, partner, mailbox):
    make_user(broker, email=EMAIL)
    sign_in_locally(http, EMAIL)
    link_partner(broker, http, partner)
    page = http.get("/account/partners").get_data(as_text=True)
    with broker.app_context():
        link_id = db.session.query(PartnerLink).one().id
    response = http.post(f"/account/partners/{link_id}/unlink", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert links(broker) == []
    with broker.app_context():
        tags = [event.tag for event in db.session.query(SecurityEvent).order_by(SecurityEvent.id)]
    assert tags[-2:] == [EventTag.PARTNER_LINKED.value, EventTag.PARTNER_UNLINKED.value]
    subjects = [message["Subject"] for message in mailbox.to(EMAIL)]
    # In the account's language (French when it has none).
    assert "Un partenaire de connexion a été lié à votre compte Passerelle" in subjects
    assert "Un partenaire de connexion a été dissocié de votre compte Passerelle" in subjects
    home = http.get("/account").get_data(as_text=True)
    assert "Sign-in partner unlinked" in home or "Partenaire de connexion dissocié" in home


def test_a_partner_account_linked_elsewhere_is_not_moved(broker, http, partner):
    rp = make_client(broker)
    partner_signin(broker.test_client(), partner, rp)  # the partner's customer made an account here
    make_user(broker, email=EMAIL)
    sign_in_locally(http, EMAIL)
    refused = link_partner(broker, http, partner)
    assert refused.status_code == 409
    assert len(links(broker)) == 1


def test_the_only_way_into_a_partner_account_cannot_be_unlinked(broker, http, partner):
    rp = make_client(broker)
    partner_signin(http, partner, rp)
    page = http.get("/account/partners")
    assert page.status_code == 200
    with broker.app_context():
        link_id = db.session.query(PartnerLink).one().id
    http.post(f"/account/partners/{link_id}/unlink", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert len(links(broker)) == 1
    notice = http.get("/account/partners").get_data(as_text=True)
    assert "only way" in notice or "seule façon" in notice


def test_a_partner_only_account_can_use_every_account_page(broker, http, partner):
    rp = make_client(broker)
    partner_signin(http, partner, rp)
    # No password to change: the account page does not offer it (/account/password).
    for path in ("/account", "/account/partners", "/account/sessions", "/account/two-factor"):
        response = http.get(path)
        assert response.status_code in (200, 303), (path, response.status_code)
        assert "None" not in response.get_data(as_text=True), path
    home = http.get("/account").get_data(as_text=True)
    assert "/account/password" not in home
    assert "/account/two-factor" not in home  # it would ask for a password this account lacks
    assert "@" not in home.split("<main")[1].split("</main>")[0]  # no address shown, none invented
