"""Seed 001, « Vous devez utiliser la même adresse électronique que celle à laquelle votre code
d'invitation a été envoyé »: through the pages, the right code typed with another address is
refused with the very message a wrong code gets (codes cannot be probed), no account is made
and no verification code is sent; with the invited address it goes on (docs/seeds.md)."""

from __future__ import annotations

from html import unescape

from sqlalchemy import func, select

from idp.accounts.models import User
from idp.extensions import db
from tests.integration.registration.support import EMAIL, invitation_code, invite
from tests.integration.registration.test_code_journey import code_form_data


def error_summary(html: str) -> str:
    return " ".join(unescape(html).partition('class="error-summary')[2].partition("</div>")[0].split())


def test_the_code_works_only_with_the_address_it_was_sent_to(app, client, mailbox):
    client.set_cookie("passerelle_lang", "fr")
    invite(app, kind="code", email=EMAIL, locale="fr")
    code = invitation_code(mailbox.wait_for(EMAIL))

    page = client.get("/register/code")
    other = client.post("/register/code", data=code_form_data(client, page, code, email="quelquun@example.ca"))
    page = client.get("/register/code")
    wrong = client.post("/register/code", data=code_form_data(client, page, "ABCD-EFGH-JKMN-PQRS"))
    assert other.status_code == wrong.status_code == 422
    assert error_summary(other.text) and error_summary(other.text) == error_summary(wrong.text)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert mailbox.to("quelquun@example.ca") == [] and len(mailbox.to(EMAIL)) == 1

    page = client.get("/register/code")
    right = client.post("/register/code", data=code_form_data(client, page, code))
    assert right.status_code == 303 and right.headers["Location"].endswith("/register/confirm")
