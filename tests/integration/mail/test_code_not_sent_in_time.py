"""A code that could not be sent before it expired (issue 9, item 11): the message is dropped,
and the person's next attempt on the code page says so and to request a new code, in French
and English. Mail stays in the outbox here (MAIL_SEND_AFTER_RESPONSE off) as it would while
the relay is down."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.mail.delivery import deliver
from idp.mail.models import OutboxMessage
from tests.integration.mfa.test_email_code_step import EMAIL, post_code, resend, to_code_page
from tests.integration.registration.support import EMAIL as REGISTRANT
from tests.integration.registration.support import csrf, invitation_code, invite
from tests.integration.registration.test_code_journey import code_form_data, confirm_with_code
from tests.integration.signin.support import make_user
from tests.signin_support import latest_signin_code

NOT_SENT_EN = "We could not send your code in time. Request a new code."
NOT_SENT_FR = "Nous n’avons pas pu vous envoyer votre code à temps. Demandez un nouveau code."


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
@pytest.mark.parametrize(("locale", "words"), [("en", NOT_SENT_EN), ("fr", NOT_SENT_FR)])
def test_the_sign_in_code_page_says_the_code_was_not_sent_in_time(app, client, clock, mailbox, locale, words):
    make_user(app)
    page = to_code_page(client, locale=locale)
    clock.advance(181)
    with app.app_context():
        deliver()  # the relay is back too late: the code is dropped, not sent
        assert db.session.query(OutboxMessage).filter_by(template="signin-code").one().state == "expired"
    assert mailbox.to(EMAIL) == []
    response = post_code(client, page, "123456")
    assert response.status_code == 422 and words in response.text
    assert resend(client, page).status_code == 303
    with app.app_context():
        deliver()
    assert post_code(client, page, latest_signin_code(EMAIL)).status_code == 303


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_a_code_that_was_sent_and_expired_still_says_expired(app, client, clock, mailbox):
    make_user(app)
    page = to_code_page(client)
    with app.app_context():
        deliver()
    clock.advance(181)
    response = post_code(client, page, latest_signin_code(EMAIL))
    assert "This code has expired. Request a new code." in response.text and NOT_SENT_EN not in response.text


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
@pytest.mark.parametrize(("locale", "words"), [("en", NOT_SENT_EN), ("fr", NOT_SENT_FR)])
def test_the_registration_confirm_page_says_the_code_was_not_sent_in_time(app, client, clock, mailbox, locale, words):
    client.set_cookie("passerelle_lang", locale)
    invite(app, kind="code", locale=locale)  # the invitation itself was sent
    page = client.get("/register/code")
    sent = client.post("/register/code", data=code_form_data(client, page, invitation_code(mailbox.wait_for(REGISTRANT))))
    assert sent.status_code == 303 and sent.headers["Location"] == "/register/confirm"
    clock.advance(minutes=30)
    response = confirm_with_code(client, "123456")
    assert response.status_code == 422 and words in response.text
    # Someone who only types the address (another browser) learns nothing (no enumeration).
    other = type(client)(app, use_cookies=True)
    other.set_cookie("passerelle_lang", locale)
    elsewhere = other.get("/register/confirm")
    answer = other.post("/register/confirm", data={"csrf_token": csrf(elsewhere.text), "email": REGISTRANT,
                                                   "verification_code": "123456"})
    assert answer.status_code == 422 and words not in answer.text
