""""Can't sign in?" through the Flask test client with mail over real SMTP: who gets what,
one answer for every address (ENUM-02, REC-03), links built from the issuer (REC-04), the
not-a-robot check, rate limits, and no 500 on any input."""

from __future__ import annotations

import statistics
import time

import pytest
from sqlalchemy import select
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.accounts.models import User
from idp.audit import SecurityEvent
from idp.context import app_context
from idp.extensions import db
from idp.invitations.services import InvitationService
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from idp.registration.links import LinkRegistrationService
from tests.integration.recovery.support import ask_for_help, reset_path, without_csrf_token
from tests.integration.signin.support import SignIn, csrf_token, make_user
from tests.mail_support import links_in, text_body
from tests.robot_support import solve_robot_check
from tests.signin_support import signin_code_messages


def make_pending_user(app, email: str = "zoe@example.ca") -> int:
    """A person who registered by link and never activated: the registration feature's own path."""
    with app.app_context():
        ctx = app_context()
        invitation, _ = InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            email=email, kind="link", created_by_kind="operator", created_by_id="test", inviter_name="École Imaginaire"
        )
        mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
        registration = LinkRegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, mail)
        registration.register_by_link(invitation, email=email, given_name="Zoé", family_name="Citoyenne", locale="fr")
        user = registration.accounts.find_by_email(email)
        db.session.commit()
        return user.id


def disable(app, user_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.disabled_at = app_context().clock()
        db.session.commit()


def test_the_page_follows_the_seed_in_both_languages(client):
    for locale, heading, intro in (
        ("fr", "Vous n'arrivez pas à vous connecter?", "Entrez votre adresse courriel ci-dessous"),
        ("en", "Can't sign in?", "Enter your email below and follow the instructions"),
    ):
        client.set_cookie("passerelle_lang", locale)
        page = client.get("/signin/help")
        assert page.status_code == 200
        text = page.text.replace("&#39;", "'")
        assert f"<title>{heading} – Passerelle</title>" in text and intro in text
        assert "<altcha-widget" in page.text and 'name="email"' in page.text
        assert 'href="/signin"' in page.text  # Back


def test_the_sign_in_page_links_to_it(client):
    client.set_cookie("passerelle_lang", "en")
    page = client.get(client.get("/account").headers["Location"])
    assert '<a href="/signin/help">Can\'t sign in?</a>' in page.text.replace("&#39;", "'")


def test_an_active_account_gets_a_single_reset_link_in_the_page_language(app, client, mailbox):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    answer = ask_for_help(client, "Ana@Example.ca")
    assert answer.status_code == 200
    assert "Check your email" in answer.text and "ana@example.ca" in answer.text.lower()
    message = mailbox.wait_for("ana@example.ca")
    assert message["Subject"] == "Choose a new Passerelle password"
    assert message["Content-Language"] == "en"
    assert reset_path(message).startswith("/signin/reset/")
    assert "60 minutes" in text_body(message)


def test_a_pending_account_gets_its_activation_email_again(app, client, mailbox, clock):
    make_pending_user(app)
    with app.app_context():
        first = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.to_address == "zoe@example.ca"))
    clock.advance(seconds=app.config["RECOVERY_EMAIL_COOLDOWN"] + 1)  # the first email started the cooldown
    answer = ask_for_help(client, "zoe@example.ca")
    assert answer.status_code == 200
    with app.app_context():
        queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id != first)).all()
    assert [(message.to_address, message.template) for message in queued] == [("zoe@example.ca", "activation")]
    again = mailbox.wait_for("zoe@example.ca")
    assert any("/register/activate/" in link for link in links_in(again))
    assert not any("/signin/reset/" in link for link in links_in(again))


def test_unknown_and_disabled_addresses_get_no_mail_at_all(app, client, mailbox):
    disable(app, make_user(app, "leo@example.ca"))
    make_user(app)
    for address in ("nobody@example.ca", "leo@example.ca"):
        assert ask_for_help(client, address).status_code == 200
    ask_for_help(client, "ana@example.ca")
    mailbox.wait_for("ana@example.ca")
    assert [message["To"] for message in mailbox.messages] == ["ana@example.ca"]


def test_every_address_gets_the_same_page_and_status(app, client, mailbox):
    """Known, pending, disabled and unknown: the same status and body, once the typed address
    and the CSRF token are set aside (ENUM-02, REC-03)."""
    make_user(app, "ana@example.ca")
    make_pending_user(app, "zoe@example.ca")
    disable(app, make_user(app, "leo@example.ca"))
    answers = {}
    for address in ("ana@example.ca", "zoe@example.ca", "leo@example.ca", "nobody@example.ca"):
        response = ask_for_help(client, address)
        answers[address] = (
            response.status_code,
            without_csrf_token(response.text).replace(address, "ADDRESS"),
            tuple(sorted(header for header in response.headers.keys() if header != "Content-Length")),
        )
    assert len(set(answers.values())) == 1, answers


@pytest.mark.settings(RATELIMIT_ENABLED=False, MAIL_SEND_AFTER_RESPONSE=False, ROBOT_CHECK_ENABLED=False)
def test_known_and_unknown_addresses_take_similar_time(app, client):
    """Loose on purpose (a shared CI machine): the medians differ by less than 50 ms or half
    the slower one. Both paths record an event; only the known one also writes a link and mail."""
    make_user(app)
    page = client.get("/signin/help")
    token = csrf_token(page.text)

    def timed(address: str) -> float:
        started = time.perf_counter()
        response = client.post("/signin/help", data={"csrf_token": token, "email": address})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        return elapsed

    timed("ana@example.ca"), timed("nobody@example.ca")  # warm up both paths
    known, unknown = [], []
    for _ in range(15):
        known.append(timed("ana@example.ca"))
        unknown.append(timed("nobody@example.ca"))
    fast, slow = sorted((statistics.median(known), statistics.median(unknown)))
    assert slow - fast < max(0.05, slow / 2), (known, unknown)


def test_links_use_the_issuer_whatever_the_host_header(app, mailbox):
    """Password-reset poisoning (REC-04): the Host and X-Forwarded-Host headers are ignored."""
    make_user(app)
    evil = app.test_client()
    evil.set_cookie("passerelle_lang", "en", domain="evil.example")
    page = evil.get("/signin/help", base_url="http://evil.example")
    evil.post(
        "/signin/help",
        base_url="http://evil.example",
        headers={"X-Forwarded-Host": "evil.example"},
        data={"csrf_token": csrf_token(page.text), "email": "ana@example.ca", "altcha": solve_robot_check(evil)},
    )
    message = mailbox.wait_for("ana@example.ca")
    with app.app_context():
        issuer = app_context().settings.OIDC_ISSUER
    assert links_in(message) and all(link.startswith(issuer + "/") for link in links_in(message))
    assert "evil.example" not in text_body(message)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Entrez votre adresse courriel."),
        ("   ", "Entrez votre adresse courriel."),
        ("ana", "Entrez une adresse courriel dans le bon format"),
        ("ana@example", "Entrez une adresse courriel dans le bon format"),
        ("ana@example.ca\r\nBcc: x@evil.example", "Entrez une adresse courriel dans le bon format"),
        ("a" * 500 + "@example.ca", "Entrez une adresse courriel dans le bon format"),
    ],
)
def test_a_bad_address_gets_its_own_message_in_french(client, mailbox, email, message):
    client.set_cookie("passerelle_lang", "fr")
    response = ask_for_help(client, email)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert '<div class="error-summary"' in response.text and "<title>Erreur" in response.text
    assert mailbox.messages == []


def test_the_robot_check_is_required(app, client, mailbox):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    page = client.get("/signin/help")
    for altcha in (None, "", "bm90IGpzb24=", "x" * 5000):
        data = {"csrf_token": csrf_token(page.text), "email": "ana@example.ca"}
        if altcha is not None:
            data["altcha"] = altcha
        response = client.post("/signin/help", data=data)
        assert response.status_code == 422
        assert "We could not confirm you are not a robot" in response.text
    assert mailbox.messages == []


def test_a_robot_answer_works_once(app, client, mailbox):
    make_user(app)
    page = client.get("/signin/help")
    data = {"csrf_token": csrf_token(page.text), "email": "ana@example.ca", "altcha": solve_robot_check(client)}
    assert client.post("/signin/help", data=data).status_code == 200
    assert client.post("/signin/help", data=data).status_code == 422  # a replayed answer


def test_the_form_needs_its_csrf_token(client):
    response = client.post("/signin/help", data={"email": "ana@example.ca"})
    assert response.status_code == 400


@pytest.mark.settings(RECOVERY_RATE_LIMIT="2 per minute")
def test_too_many_requests_from_one_address_are_refused_with_a_page(client, clock):
    for _ in range(2):
        assert ask_for_help(client, "nobody@example.ca").status_code == 200
    client.set_cookie("passerelle_lang", "en")
    refused = ask_for_help(client, "nobody@example.ca")
    assert refused.status_code == 429
    assert "<h1>Too many attempts</h1>" in refused.text


@pytest.mark.settings(MAIL_MAX_PER_ADDRESS_PER_HOUR=2, RATELIMIT_ENABLED=False, RECOVERY_EMAIL_COOLDOWN=60)
def test_the_mail_caps_stop_an_inbox_flood_silently(app, client, mailbox, clock):
    make_user(app)
    for _ in range(4):
        assert ask_for_help(client, "ana@example.ca").status_code == 200
        clock.advance(seconds=61)  # past the cooldown: only the caps hold the mail back
    mailbox.wait_for("ana@example.ca", count=2)
    time.sleep(0.2)  # nothing else is on its way: the caps dropped the rest before queueing
    assert len(mailbox.to("ana@example.ca")) == 2


@pytest.mark.settings(RATELIMIT_ENABLED=False)
def test_asking_again_within_the_cooldown_sends_nothing_and_answers_the_same_page(app, client, mailbox, clock):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    assert ask_for_help(client, "ana@example.ca").status_code == 200
    mailbox.wait_for("ana@example.ca")
    again = [ask_for_help(client, "ana@example.ca") for _ in range(3)]
    unknown = ask_for_help(client, "nobody@example.ca")
    pages = {
        (response.status_code, without_csrf_token(response.text).replace(address, "ADDRESS"))
        for response, address in [(answer, "ana@example.ca") for answer in again] + [(unknown, "nobody@example.ca")]
    }
    assert len(pages) == 1
    assert "we send at most one email every few minutes" in unknown.text
    time.sleep(0.2)  # nothing else is on its way: nothing was queued
    assert len(mailbox.to("ana@example.ca")) == 1
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 1
    clock.advance(seconds=app.config["RECOVERY_EMAIL_COOLDOWN"] + 1)
    ask_for_help(client, "ana@example.ca")
    mailbox.wait_for("ana@example.ca", count=2)


@pytest.mark.settings(
    RATELIMIT_ENABLED=False, RECOVERY_EMAIL_COOLDOWN=60, MAIL_MAX_PER_ADDRESS_PER_HOUR=3, MAIL_MAX_PER_ACCOUNT_PER_DAY=3
)
def test_a_stranger_asking_again_and_again_cannot_stop_the_sign_in_code(app, client, mailbox, clock):
    """The audit's attack: "can't sign in?" for someone else's address until their mail caps
    are full. The sign-in code has its own budget, so its owner still signs in."""
    make_user(app)
    stranger = app.test_client()
    for _ in range(6):
        assert ask_for_help(stranger, "ana@example.ca").status_code == 200
        clock.advance(seconds=61)
    mailbox.wait_for("ana@example.ca", count=3)
    with app.app_context():
        capped = db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == "mail:capped")).all()
        assert [event.details["template"] for event in capped] == ["password-reset"] * 3
    SignIn(client).sign_in()
    assert len(signin_code_messages("ana@example.ca")) == 1


@pytest.mark.settings(ROBOT_CHECK_ENABLED=False, RATELIMIT_ENABLED=False, MAIL_SEND_AFTER_RESPONSE=False)
def test_no_input_makes_the_form_fail(app):
    """Any text in any field, or a field missing: a page with a message, never a 500."""
    test_client = app.test_client()
    token = csrf_token(test_client.get("/signin/help").text)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(email=st.one_of(st.none(), st.text(max_size=400)), altcha=st.one_of(st.none(), st.text(max_size=200)))
    def post(email, altcha):
        data = {"csrf_token": token}
        if email is not None:
            data["email"] = email
        if altcha is not None:
            data["altcha"] = altcha
        response = test_client.post("/signin/help", data=data)
        assert response.status_code in (200, 400, 422), response.text[:300]

    post()


def reset_links_to(mailbox, address: str) -> list[str]:
    return [link for message in mailbox.to(address) for link in links_in(message) if "/signin/reset/" in link]


@pytest.mark.settings(RATELIMIT_ENABLED=False, RECOVERY_EMAIL_COOLDOWN=900)
def test_after_using_the_reset_link_asking_again_sends_a_new_one_at_once(app, client, mailbox, clock):
    """Issue 9 item 16: the cooldown holds only while the link already sent still works."""
    from tests.integration.recovery.support import choose_password, open_reset_link

    make_user(app)
    ask_for_help(client, "ana@example.ca")
    page = open_reset_link(client, reset_path(mailbox.wait_for("ana@example.ca")))
    assert choose_password(client, page).status_code == 303
    mailbox.wait_for("ana@example.ca", count=2)  # "your password was changed"
    clock.advance(seconds=60)
    ask_for_help(app.test_client(), "ana@example.ca")
    mailbox.wait_for("ana@example.ca", count=3)
    assert len(set(reset_links_to(mailbox, "ana@example.ca"))) == 2


@pytest.mark.settings(RATELIMIT_ENABLED=False, RECOVERY_EMAIL_COOLDOWN=900)
def test_after_activating_asking_for_help_sends_a_reset_link_at_once(app, client, mailbox, clock):
    """The activation email just sent starts no cooldown once its link was used."""
    from tests.integration.registration.support import reach_almost_there

    reach_almost_there(app, client, mailbox)
    clock.advance(seconds=60)
    sent_before = len(mailbox.to("zoe@example.ca"))
    ask_for_help(app.test_client(), "zoe@example.ca")
    newest = mailbox.wait_for("zoe@example.ca", count=sent_before + 1)
    assert any("/signin/reset/" in link or "/register/activate/" in link for link in links_in(newest))
