"""Two-factor through the test client with MFA_REQUIRED on (the production default): the
set-up at the first sign-in (seed 002 "Configurer"), signing in with the authenticator app,
replay refused, "Use another method", and "Recover account" with a recovery code, which
leads to a new set-up. The ID token's amr and acr tell relying parties what happened."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mfa.models import RecoveryCode, TotpAuthenticator
from idp.signin.assurance import ACR_PASSWORD_EMAIL
from idp.signin.models import UserSession
from tests.integration.signin.support import SignIn, csrf_token, make_user
from tests.mail_support import text_body

pytestmark = pytest.mark.settings(MFA_REQUIRED=True)
EMAIL = "ana@example.ca"


@pytest.fixture
def user_id(app):
    return make_user(app)


def secret_on(page_text: str) -> str:
    match = re.search(r'<code class="secret-key" id="secret-key">([A-Z2-7 ]+)</code>', page_text)
    assert match, "the set-up page shows the key as text"
    return match.group(1).replace(" ", "")


def codes_on(page_text: str) -> list[str]:
    return re.findall(r"<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>", page_text)


def app_code(secret: str, clock) -> str:
    return pyotp.TOTP(secret).at(clock())


def to_setup(client) -> SignIn:
    """Password and emailed code: a person without two-factor lands on the set-up page."""
    browser = SignIn(client)
    response = browser.submit(page=browser.start())
    assert response.status_code == 303 and response.headers["Location"] == "/signin/setup", response.text
    return browser


def set_up_app(client, clock) -> tuple[str, list[str]]:
    """Choose the app, scan (read the key), confirm; returns the key and the recovery codes."""
    choice = client.get("/signin/setup")
    assert choice.status_code == 200 and "Set up two-factor authentication" in choice.text
    response = client.post("/signin/setup", data={"csrf_token": csrf_token(choice.text), "method": "totp"})
    assert response.status_code == 303 and response.headers["Location"] == "/signin/setup/app"
    page = client.get("/signin/setup/app")
    assert page.status_code == 200 and "<svg" in page.text
    secret = secret_on(page.text)
    codes_page = client.post("/signin/setup/app", data={"csrf_token": csrf_token(page.text), "code": app_code(secret, clock)})
    assert codes_page.status_code == 200 and "Save your recovery codes" in codes_page.text
    codes = codes_on(codes_page.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    done = client.post("/signin/setup/done", data={"csrf_token": csrf_token(codes_page.text)})
    return secret, codes, done


def latest_session(app, user_id) -> UserSession:
    with app.app_context():
        return db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id.desc())
        ).first()


def test_first_sign_in_sets_up_the_app_and_the_session_claims_what_it_proved(app, client, user_id, clock, mailbox):
    browser = to_setup(client)
    secret, codes, done = set_up_app(client, clock)
    response = browser.finish_steps(done, EMAIL)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    # A code from the key the page just showed proves the app works, not prior possession:
    # this sign-in proved a password and the mailbox; the next one will use the app.
    user_session = latest_session(app, user_id)
    assert user_session.acr == ACR_PASSWORD_EMAIL
    assert set(user_session.amr) == {"pwd", "email"}
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.mfa_enrolled_at is not None and user.mfa_default_factor == "totp"
        stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id)).all()
        assert len(stored) == 10 and not any(code.replace("-", "") in stored for code in codes)  # hashes only
        authenticator = db.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id))
        assert secret.encode() not in authenticator.secret_encrypted  # encrypted at rest
    notice = mailbox.last_to(EMAIL)
    assert notice["Subject"] == "Two-factor authentication was set up on your Passerelle account"
    assert "authenticator app" in text_body(notice)


def test_next_sign_in_asks_for_the_app_and_refuses_a_replayed_code(app, client, user_id, clock, mailbox):
    to_setup(client)
    secret, _codes, _done = set_up_app(client, clock)
    client.post("/signout", data={})  # best effort; a new client is a new browser anyway
    client.delete_cookie("passerelle_session")
    browser = SignIn(client)
    sent_before = len(mailbox.to(EMAIL))
    response = browser.submit_password(page=browser.start())
    assert response.headers["Location"] == "/signin/second-factor"
    assert client.get("/signin/second-factor").headers["Location"] == "/signin/app"
    assert len(mailbox.to(EMAIL)) == sent_before  # no email code for someone with an app
    page = client.get("/signin/app")
    assert "Enter the code from your authenticator app" in page.text
    # The code that confirmed the app, within the same 30 s: refused (RFC 6238 §5.2).
    replay = client.post("/signin/app", data={"csrf_token": csrf_token(page.text), "code": app_code(secret, clock)})
    assert replay.status_code == 422 and "each code works once" in replay.text
    clock.advance(seconds=31)
    response = client.post("/signin/app", data={"csrf_token": csrf_token(page.text), "code": app_code(secret, clock)})
    assert response.status_code == 303
    response = browser.finish_steps(response, EMAIL)
    assert response.headers["Location"] == "/account"
    assert set(latest_session(app, user_id).amr) == {"pwd", "otp", "mfa"}


def test_recovery_code_leads_to_a_new_set_up_and_new_codes(app, client, user_id, clock, mailbox):
    to_setup(client)
    old_secret, codes, _done = set_up_app(client, clock)
    client.delete_cookie("passerelle_session")
    browser = SignIn(client)
    browser.submit_password(page=browser.start())
    client.get("/signin/second-factor")
    methods = client.get("/signin/methods")
    assert "Recover account" in methods.text and 'href="/signin/recover"' in methods.text
    page = client.get("/signin/recover")
    wrong = client.post("/signin/recover", data={"csrf_token": csrf_token(page.text), "code": "AAAA-AAAA-AAAA"})
    assert wrong.status_code == 422 and "incorrect or was already used" in wrong.text
    clock.advance(seconds=60)  # past the progressive delay, if any
    response = client.post("/signin/recover", data={"csrf_token": csrf_token(page.text), "code": codes[0].lower()})
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).headers.get("Location") in (None, "/signin/setup")
    # Set up a new app: the lost one stops working.
    clock.advance(seconds=31)
    new_secret, new_codes, done = set_up_app(client, clock)
    assert new_secret != old_secret and not set(new_codes) & set(codes)
    response = browser.finish_steps(done, EMAIL)
    assert response.headers["Location"] == "/account"
    with app.app_context():
        unused = db.session.scalar(
            select(db.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        assert unused == 10  # the new set only: the old ones all stopped working
        tags = set(db.session.scalars(select(SecurityEvent.tag).where(SecurityEvent.user_id == user_id)))
    assert {
        EventTag.RECOVERY_CODE_USED.value, EventTag.RECOVERY_CODE_FAILURE.value, EventTag.MFA_ENROLLED.value,
        EventTag.MFA_LOST_METHODS_REMOVED.value,
    } <= tags
    subjects = [message["Subject"] for message in mailbox.to(EMAIL)]
    assert "Your Passerelle account was recovered" in subjects  # which lists the lost app (issue 9)


def test_choosing_the_email_code_is_honest_about_its_level(app, client, user_id, clock, mailbox):
    browser = to_setup(client)
    choice = client.get("/signin/setup")
    codes_page = client.post("/signin/setup", data={"csrf_token": csrf_token(choice.text), "method": "email_code"})
    assert codes_page.status_code == 200 and len(codes_on(codes_page.text)) == 10
    done = client.post("/signin/setup/done", data={"csrf_token": csrf_token(codes_page.text)})
    response = browser.finish_steps(done, EMAIL)
    assert response.headers["Location"] == "/account"
    user_session = latest_session(app, user_id)
    assert user_session.acr == ACR_PASSWORD_EMAIL and "mfa" not in user_session.amr


@pytest.mark.parametrize("bad", ["", "12345", "abcdef", "1234567", "\x00" * 6, "١٢٣٤٥٦"])
def test_bad_app_codes_get_a_message_not_a_500(app, client, user_id, clock, mailbox, bad):
    to_setup(client)
    client.post("/signin/setup", data={"csrf_token": csrf_token(client.get("/signin/setup").text), "method": "totp"})
    page = client.get("/signin/setup/app")
    response = client.post("/signin/setup/app", data={"csrf_token": csrf_token(page.text), "code": bad})
    if "\x00" in bad:
        assert response.status_code == 400  # the app refuses NUL bytes before any view
    else:
        assert response.status_code == 422 and "error-summary" in response.text


def test_a_method_that_is_not_offered_is_refused(app, client, user_id, clock, mailbox):
    to_setup(client)
    choice = client.get("/signin/setup")
    response = client.post("/signin/setup", data={"csrf_token": csrf_token(choice.text), "method": "carrier-pigeon"})
    assert response.status_code == 422 and "error-summary" in response.text


def test_the_set_up_pages_need_a_sign_in_that_reached_them(client, user_id):
    for path in ("/signin/setup", "/signin/setup/app", "/signin/app", "/signin/recover", "/signin/methods"):
        response = client.get(path)
        assert response.status_code in (303, 400, 410), path


def test_a_password_reset_never_bypasses_or_removes_the_app(app, client, user_id, clock, mailbox):
    """Seed 002 and ASVS 6.4.3: a reset changes the password only; the next sign-in still
    asks for the app, not for an emailed code or a new set-up."""
    from idp.context import app_context
    from idp.mail.services import MailService
    from idp.recovery.services import RecoveryService

    to_setup(client)
    set_up_app(client, clock)
    new_password = "Tulipe-Orange-42-Ciel"
    with app.app_context():
        ctx = app_context()
        service = RecoveryService(
            db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords,
            MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box), resend_activation=lambda user: None,
        )
        token = service.issue_reset(db.session.get(User, user_id))
        service.reset_password(token, new_password, locale="en")
        db.session.commit()
        assert db.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id)).confirmed_at
    client.delete_cookie("passerelle_session")
    browser = SignIn(client)
    response = browser.submit_password(password=new_password, page=browser.start())
    assert response.headers["Location"] == "/signin/second-factor"
    assert client.get("/signin/second-factor").headers["Location"] == "/signin/app"


def test_a_session_from_registration_leads_to_the_set_up_before_any_client(app, client, clock, mailbox):
    """Registration by link signs the person in with their new password only; the first
    client they go to sends them through the two-factor set-up, not straight back."""
    from tests.integration.registration.support import EMAIL as REGISTERED
    from tests.integration.registration.support import reach_almost_there
    from tests.integration.registration.test_link_journey import almost_there
    from tests.oidc_support import authorization_params, make_client, pkce_pair

    client.set_cookie("passerelle_lang", "en")
    reach_almost_there(app, client, mailbox)
    assert almost_there(client).headers["Location"] == "/account"
    portal = make_client(app)
    _verifier, challenge = pkce_pair()
    params = authorization_params(portal, code_challenge=challenge, code_challenge_method="S256")
    response = client.get("/authorize", query_string=params)
    assert response.headers["Location"] == "/signin/setup", response.headers["Location"]
    _secret, _codes, done = set_up_app(client, clock)
    while done.status_code in (302, 303) and done.headers["Location"].startswith("/"):
        done = client.get(done.headers["Location"])
    assert done.headers["Location"].startswith(portal.redirect_uri) and "code=" in done.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == REGISTERED)).mfa_enrolled_at is not None


def test_a_reset_link_alone_cannot_change_the_password_of_an_account_with_an_app(app, client, user_id, clock, mailbox):
    """REC-07: whoever reads the mailbox gets the reset link; the reset also asks for the
    app's code or a recovery code, and an emailed code would prove nothing more."""
    import pyotp

    from tests.integration.recovery.support import NEW_PASSWORD, ask_for_help, open_reset_link, reset_path

    to_setup(client)
    secret, codes, _done = set_up_app(client, clock)
    other = app.test_client()
    other.set_cookie("passerelle_lang", "en")
    before = len(mailbox.to(EMAIL))
    assert ask_for_help(other, EMAIL).status_code == 200
    page = open_reset_link(other, reset_path(mailbox.wait_for(EMAIL, count=before + 1)))
    assert "Code from your authenticator app, or a recovery code" in page.text

    def submit(second_factor: str):
        return other.post("/signin/reset", data={
            "csrf_token": csrf_token(page.text), "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
            "second_factor": second_factor,
        })

    missing = submit("")
    assert missing.status_code == 422 and "protected by two-factor authentication" in missing.text
    wrong = submit("000000")
    assert wrong.status_code == 422 and "incorrect, or was already used" in wrong.text
    with app.app_context():
        assert db.session.get(User, user_id).failed_signin_count == 1  # counted like a sign-in
    clock.advance(seconds=60)
    done = submit(codes[0])  # a recovery code works, once
    assert done.status_code == 303 and done.headers["Location"] == "/signin/reset/done"
    assert pyotp.TOTP(secret).now()  # the app itself is untouched
    with app.app_context():
        assert db.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id)).confirmed_at


@pytest.mark.settings(MFA_REQUIRED=False)
def test_an_account_whose_only_method_is_email_resets_with_the_link(app, client, user_id, mailbox):
    from tests.integration.recovery.support import ask_for_help, choose_password, open_reset_link, reset_path

    client.set_cookie("passerelle_lang", "en")
    assert ask_for_help(client, EMAIL).status_code == 200
    page = open_reset_link(client, reset_path(mailbox.wait_for(EMAIL)))
    assert "second_factor" not in page.text
    assert choose_password(client, page).headers["Location"] == "/signin/reset/done"
