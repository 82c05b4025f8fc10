""""Can't sign in?" sends an account at most one reset or activation email per
RECOVERY_EMAIL_COOLDOWN, so repeated requests by anybody cannot fill its mail caps and block
the mail it needs (the sign-in code); the link already sent keeps working meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.recovery.services import HelpOutcome
from idp.registration.models import Registration


def queued(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


def live_activation(user, clock, seconds: int = 24 * 3600) -> Registration:
    """The activation link the registration feature sends, still unused for `seconds`."""
    now = clock()
    row = Registration(
        email=user.email, user_id=user.id, kind="link", locale="fr", token_hash="0" * 64,
        secret_expires_at=now + timedelta(seconds=seconds), secret_sent_at=now, created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    return row


def outcomes() -> list[str]:
    tag = str(EventTag.RECOVERY_REQUESTED)
    return [event.details["outcome"] for event in db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == tag))]


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=600)
def test_requests_within_the_cooldown_send_nothing_and_keep_the_first_link(recovery, user, clock):
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK
    [message] = queued("password-reset")
    first_link = recovery.mail.context_of(message)["reset_url"].rpartition("/")[2]
    for _ in range(12):
        clock.advance(seconds=49)
        assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RECENTLY_SENT
    assert len(queued("password-reset")) == 1
    recovery.find_reset(first_link)  # not replaced: the email on its way still works
    assert outcomes() == ["reset_link"] + ["recently_sent"] * 12


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=600)
def test_a_request_after_the_cooldown_sends_a_new_link(recovery, user, clock):
    recovery.request_help("ana@example.ca", locale="fr")
    clock.advance(seconds=599)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RECENTLY_SENT
    clock.advance(seconds=2)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK
    assert len(queued("password-reset")) == 2


def test_a_recent_activation_email_starts_the_cooldown_of_a_pending_account(recovery, user, activations, clock):
    """The registration pages' activation email counts too: the person already has a link."""
    user.activated_at = None
    live_activation(user, clock)
    recovery.mail.enqueue(to=user.email, template="activation", locale="fr", context={}, user_id=user.id)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RECENTLY_SENT
    assert activations == []
    clock.advance(seconds=recovery.settings.RECOVERY_EMAIL_COOLDOWN + 1)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.ACTIVATION
    assert activations == [user]


def test_other_mail_to_the_account_does_not_start_the_cooldown(recovery, user):
    for template in ("password-changed", "account-locked", "signin-code"):
        recovery.mail.enqueue(to=user.email, template=template, locale="fr", context={}, user_id=user.id)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK


def test_a_reset_email_the_caps_refused_does_not_start_the_cooldown(recovery, user, clock):
    """Nothing was queued, so nothing is on its way: the next request may try again."""
    for _ in range(recovery.settings.MAIL_MAX_PER_ADDRESS_PER_HOUR):
        recovery.mail.enqueue(to=user.email, template="hello", locale="fr", context={})
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK
    assert queued("password-reset") == []
    clock.advance(hours=1, seconds=1)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK
    assert len(queued("password-reset")) == 1


def test_the_cooldown_is_per_account(recovery, user, accounts):
    accounts.create_user("leo@example.ca", "Léo", "Gagnon", "correct horse battery staple")
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK
    assert recovery.request_help("leo@example.ca", locale="fr") is HelpOutcome.RESET_LINK


# Issue 9 item 16: the cooldown holds back a new email only while the link already sent still
# works. A used, expired or voided link is no reason to wait: the person needs a new one.


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=900)
def test_a_used_reset_link_does_not_hold_back_a_new_one(recovery, user, clock):
    from tests.unit.recovery.conftest import NEW_PASSWORD

    recovery.request_help("ana@example.ca", locale="fr")
    [message] = queued("password-reset")
    recovery.reset_password(recovery.mail.context_of(message)["reset_url"].rpartition("/")[2], NEW_PASSWORD, locale="fr")
    clock.advance(seconds=60)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK
    assert len(queued("password-reset")) == 2


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=900, PASSWORD_RESET_TTL=300)
def test_an_expired_reset_link_does_not_hold_back_a_new_one(recovery, user, clock):
    recovery.request_help("ana@example.ca", locale="fr")
    clock.advance(seconds=299)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RECENTLY_SENT
    clock.advance(seconds=2)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=900)
def test_a_reset_link_voided_by_a_password_change_does_not_hold_back_a_new_one(recovery, user, clock):
    from idp.recovery.services import revoke_password_resets

    recovery.request_help("ana@example.ca", locale="fr")
    revoke_password_resets(db.session, clock, user.id)  # what changing the password does
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK


def test_the_activation_email_of_an_account_now_active_does_not_hold_back_a_reset_link(recovery, user):
    """Its link was used (the account is active): "can't sign in?" sends a reset link at once."""
    recovery.mail.enqueue(to=user.email, template="activation", locale="fr", context={}, user_id=user.id)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RESET_LINK


def test_an_expired_activation_link_does_not_hold_back_a_new_one(recovery, user, activations, clock):
    user.activated_at = None
    live_activation(user, clock, seconds=60)
    recovery.mail.enqueue(to=user.email, template="activation", locale="fr", context={}, user_id=user.id)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.RECENTLY_SENT
    clock.advance(seconds=61)
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.ACTIVATION
    assert activations == [user]
