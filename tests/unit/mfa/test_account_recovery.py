""""Recover account" (issue 9 item 15) on a real database: a recovery code removes the app,
every key and the emailed code, ends every session and grant; a wrong code removes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mfa.account_recovery import AccountRecoveryService
from idp.mfa.base import FactorContext
from idp.mfa.errors import FactorNotAvailable, InvalidCode
from idp.mfa.models import TotpAuthenticator, WebAuthnCredential
from idp.mfa.recovery import RecoveryCodeService
from idp.mfa.security_key import WebAuthnService
from idp.oidc.models import Token
from idp.signin.sessions import SessionService

CONTEXT = FactorContext(transaction_id=None, locale="fr", ip_address="192.0.2.7", user_agent="pytest")


@pytest.fixture
def service(ctx, mail, throttle):
    return AccountRecoveryService(
        db.session, ctx.settings, ctx.clock,
        RecoveryCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, throttle, mail),
        WebAuthnService(db.session, ctx.settings, ctx.clock, ctx.hasher, throttle),
        SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher),
        mail,
    )


@pytest.fixture
def equipped(ctx, service, user):
    """An app, two keys (one unnamed), emailed codes, two open sessions; returns the codes."""
    now = ctx.clock()
    user.mfa_enrolled_at = user.email_code_enrolled_at = now
    user.mfa_default_factor = "totp"
    db.session.add(TotpAuthenticator(user_id=user.id, secret_encrypted=b"x", created_at=now, confirmed_at=now))
    for number, nickname in enumerate(("Blue key", "")):
        db.session.add(WebAuthnCredential(
            user_id=user.id, credential_id=bytes([number]) * 16, public_key=b"k", nickname=nickname,
            transports=["usb"], created_at=now,
        ))
    for _ in range(2):
        service.sessions.create(user.id, ["pwd", "otp"], "urn:passerelle:acr:mfa", now, "pytest")
    db.session.add(Token(  # a native app's offline grant on the lost phone
        access_token_hash="a" * 64, refresh_token_hash="r" * 64, grant_id="g1", client_id="app", user_id=user.id,
        scope="openid offline_access", grant_scope="openid offline_access", issued_at=now,
        access_expires_at=now + timedelta(minutes=10), refresh_expires_at=now + timedelta(days=14),
    ))
    codes = service.codes.generate(user.id)
    db.session.commit()
    return codes


def test_a_recovery_code_removes_every_lost_method_and_ends_every_session(service, user, equipped, mail):
    lost = service.recover(user, equipped[0], CONTEXT)
    assert lost.names == ["totp", "webauthn", "email_code"]
    assert [key.nickname for key in lost.keys] == ["Blue key", None]
    assert db.session.scalars(select(TotpAuthenticator)).all() == []
    assert db.session.scalars(select(WebAuthnCredential)).all() == []
    assert user.email_code_enrolled_at is None and user.mfa_default_factor is None
    assert user.mfa_enrolled_at is not None  # the person is still required to use two-factor
    assert service.codes.remaining(user.id) == 9  # until the new set-up replaces them
    from idp.signin.models import UserSession

    assert all(session.ended_at is not None for session in db.session.scalars(select(UserSession)))
    assert db.session.scalar(select(Token.revoked_at)) is not None  # offline_access too
    [event] = db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.tag == EventTag.MFA_LOST_METHODS_REMOVED.value)
    ).all()
    assert event.details["sessions_ended"] == 2 and event.details["recovery_codes_left"] == 9
    from idp.mail.models import OutboxMessage

    templates = db.session.scalars(select(OutboxMessage.template)).all()
    assert templates.count("account-recovered") == 1 and "recovery-code-used" not in templates


def test_a_wrong_code_removes_nothing(service, user, equipped):
    with pytest.raises(InvalidCode):
        service.recover(user, "AAAA-AAAA-AAAA", CONTEXT)
    assert len(db.session.scalars(select(WebAuthnCredential)).all()) == 2
    assert db.session.scalars(select(TotpAuthenticator)).all() != []
    assert user.email_code_enrolled_at is not None


def test_without_recovery_codes_there_is_nothing_to_recover_with(service, user):
    with pytest.raises(FactorNotAvailable):
        service.recover(user, "AAAA-AAAA-AAAA", CONTEXT)
