"""Security keys and passkeys: the service replays recorded ceremonies
(tests/fixtures/webauthn, made by record.py with a software authenticator) against fixed
challenges. Registration and sign-in, then every refusal: another challenge, another
origin, a replayed challenge, a counter that goes backwards, an unknown key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.config import ConfigError, load
from idp.settings_checks import validate
from idp.extensions import db
from idp.mfa import webauthn
from idp.mfa.base import FactorContext
from idp.mfa.errors import (
    AccountLocked,
    AttemptTooEarly,
    ChallengeNotFound,
    FactorNotAvailable,
    SecurityKeyAlreadyRegistered,
    SecurityKeyCloned,
    SecurityKeyRejected,
    UnknownSecurityKey,
)
from idp.mfa.models import WebAuthnChallenge, WebAuthnCredential
from idp.mfa.security_key import SecurityKeyFactor, WebAuthnService
from idp.signin.assurance import AMR_HWK, AMR_SWK
from idp.signin.flow import WEBAUTHN, WEBAUTHN_SYNCED, factor_amr
from tests.webauthn_support import unb64url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webauthn"


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def service(ctx, throttle):
    return WebAuthnService(db.session, ctx.settings, ctx.clock, ctx.hasher, throttle)


@pytest.fixture
def fixed_challenge(monkeypatch):
    """The next challenge the service makes is this recording's."""

    def use(name: str) -> dict:
        record = recorded(name)
        monkeypatch.setattr(webauthn, "new_challenge", lambda: unb64url(record["challenge"]))
        return record

    return use


def register(service, user, context, fixed_challenge, name: str = "registration") -> WebAuthnCredential:
    record = fixed_challenge(name)
    options = service.begin_registration(user, context)
    assert options["challenge"] == record["challenge"]
    credential = service.complete_registration(user, json.dumps(record["credential"]), "Blue key", context)
    db.session.commit()
    return credential


def authenticate(service, user, context, fixed_challenge, name: str = "authentication"):
    record = fixed_challenge(name)
    service.begin_authentication(user, context)
    return service.verify(user.id, json.dumps(record["credential"]), context)


def test_the_recordings_match_the_test_configuration(ctx):
    rp = webauthn.RelyingParty.from_settings(ctx.settings)
    assert (rp.id, rp.origin, rp.name) == (recorded("registration")["rp_id"], recorded("registration")["origin"], "Passerelle")


def test_registration_options_prefer_passkeys_and_user_verification_and_exclude_known_keys(service, user, context, fixed_challenge):
    options = service.begin_registration(user, context)
    assert options["rp"] == {"id": "127.0.0.1", "name": "Passerelle"}
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["attestation"] == "none" and options["excludeCredentials"] == []
    assert options["user"]["name"] == "ana@example.ca" and "ana" not in options["user"]["id"].lower()
    register(service, user, context, fixed_challenge)
    again = service.begin_registration(user, context)
    assert [item["id"] for item in again["excludeCredentials"]] == [recorded("registration")["credential"]["id"]]


def test_registration_stores_the_key(service, user, context, fixed_challenge):
    credential = register(service, user, context, fixed_challenge)
    assert credential.credential_id == unb64url(recorded("registration")["credential"]["rawId"])
    assert credential.nickname == "Blue key" and credential.transports == ["usb"]
    assert credential.sign_count == 0 and credential.backup_eligible is False
    assert credential.aaguid == "00000000-0000-0000-0000-000000000000"
    assert SecurityKeyFactor(service).is_enrolled(user)


def test_authentication_accepts_the_key_and_moves_its_counter(service, user, context, fixed_challenge, clock):
    register(service, user, context, fixed_challenge)
    credential = authenticate(service, user, context, fixed_challenge)
    assert credential.sign_count == 1 and credential.last_used_at == clock()
    options = service.begin_authentication(user, context)
    assert options["userVerification"] == "preferred"
    assert [item["id"] for item in options["allowCredentials"]] == [recorded("registration")["credential"]["id"]]


def test_a_response_to_another_challenge_is_refused(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    service.begin_authentication(user, context)  # a random challenge, not the recording's
    with pytest.raises(ChallengeNotFound):
        service.verify(user.id, json.dumps(recorded("authentication")["credential"]), context)


def test_another_origin_is_refused_at_registration_and_sign_in(service, user, context, fixed_challenge):
    fixed_challenge("registration-wrong-origin")
    service.begin_registration(user, context)
    with pytest.raises(SecurityKeyRejected):
        service.complete_registration(user, recorded("registration-wrong-origin")["credential"], "x", context)
    db.session.commit()
    register(service, user, context, fixed_challenge)
    with pytest.raises(SecurityKeyRejected):
        authenticate(service, user, context, fixed_challenge, "authentication-wrong-origin")


def test_a_replayed_challenge_is_spent_once(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    authenticate(service, user, context, fixed_challenge)
    db.session.commit()
    with pytest.raises(ChallengeNotFound):  # the same answer again: its challenge is spent
        service.verify(user.id, json.dumps(recorded("authentication")["credential"]), context)
    assert all(used_at is not None for used_at in db.session.scalars(select(WebAuthnChallenge.used_at)))


def test_a_failed_answer_spends_its_challenge_too(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    fixed_challenge("authentication-wrong-origin")
    service.begin_authentication(user, context)
    with pytest.raises(SecurityKeyRejected):
        service.verify(user.id, recorded("authentication-wrong-origin")["credential"], context)
    db.session.commit()
    assert db.session.scalar(select(WebAuthnChallenge.used_at)) is not None


def test_a_new_challenge_clears_the_persons_spent_and_expired_ones(service, user, context, fixed_challenge, clock):
    register(service, user, context, fixed_challenge)  # one spent
    service.begin_authentication(user, context)  # one live, soon expired
    clock.advance(minutes=6)
    service.begin_authentication(user, context)
    live = db.session.scalars(select(WebAuthnChallenge)).all()
    assert len(live) == 1 and live[0].used_at is None and live[0].expires_at > clock()


def test_an_expired_challenge_is_refused(service, user, context, fixed_challenge, clock):
    register(service, user, context, fixed_challenge)
    fixed_challenge("authentication")
    service.begin_authentication(user, context)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(ChallengeNotFound):
        service.verify(user.id, recorded("authentication")["credential"], context)


def test_another_sign_ins_challenge_is_refused(service, user, context, fixed_challenge, ctx):
    from tests.unit.mfa.conftest import new_signin

    register(service, user, context, fixed_challenge)
    fixed_challenge("authentication")
    service.begin_authentication(user, context)
    other = FactorContext(transaction_id=new_signin(ctx, user.id).id, locale="en")
    with pytest.raises(ChallengeNotFound):
        service.verify(user.id, recorded("authentication")["credential"], other)


def test_a_counter_that_goes_backwards_is_refused(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    assert authenticate(service, user, context, fixed_challenge, "authentication-later").sign_count == 7
    db.session.commit()
    with pytest.raises(SecurityKeyCloned):  # a recording with counter 1, after 7
        authenticate(service, user, context, fixed_challenge, "authentication")


def test_an_unknown_key_is_refused(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    with pytest.raises(UnknownSecurityKey):
        authenticate(service, user, context, fixed_challenge, "authentication-other-key")


@pytest.mark.parametrize("garbage", ["", "{", "[]", '{"response": 1}', '{"id": "x", "rawId": "", "response": {}}', "x" * 20000])
def test_malformed_answers_are_refused(service, user, context, fixed_challenge, garbage):
    register(service, user, context, fixed_challenge)
    service.begin_authentication(user, context)
    with pytest.raises(SecurityKeyRejected):
        service.verify(user.id, garbage, context)


def test_the_same_key_cannot_be_registered_twice(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    with pytest.raises(SecurityKeyAlreadyRegistered):
        register(service, user, context, fixed_challenge)


def test_failures_count_against_the_account_and_lock_it(service, user, context, fixed_challenge, clock, ctx):
    register(service, user, context, fixed_challenge)
    for attempt in range(int(ctx.settings.SIGNIN_LOCK_THRESHOLD)):
        service.begin_authentication(user, context)
        error = None
        try:
            service.verify(user.id, recorded("authentication")["credential"], context)
        except (ChallengeNotFound, AccountLocked) as caught:
            error = caught
        db.session.commit()
        assert error is not None
        clock.advance(seconds=61)
    with pytest.raises(AccountLocked):
        authenticate(service, user, context, fixed_challenge)
    tags = db.session.scalars(select(SecurityEvent.tag).where(SecurityEvent.user_id == user.id)).all()
    assert tags.count(EventTag.SIGNIN_FAILURE.value) >= 3


def test_attempts_right_after_failures_wait(service, user, context, fixed_challenge, ctx):
    register(service, user, context, fixed_challenge)
    for _ in range(int(ctx.settings.SIGNIN_DELAY_AFTER)):
        with pytest.raises(SecurityKeyRejected):
            service.verify(user.id, "{}", context)
        db.session.commit()
    with pytest.raises(AttemptTooEarly):
        authenticate(service, user, context, fixed_challenge)


def test_a_synced_passkey_says_swk(service, user, context, fixed_challenge):
    credential = register(service, user, context, fixed_challenge, "registration-synced")
    assert credential.backup_eligible is True and credential.backup_state is True
    used = authenticate(service, user, context, fixed_challenge, "authentication-synced")
    assert used.sign_count == 0  # a counter that stays at zero is allowed (§6.1.1)
    assert factor_amr(WEBAUTHN, {WEBAUTHN: "t", WEBAUTHN_SYNCED: "t"}) == (AMR_SWK,)
    assert factor_amr(WEBAUTHN, {WEBAUTHN: "t"}) == factor_amr(WEBAUTHN) == (AMR_HWK,)


def test_without_keys_there_is_nothing_to_ask(service, user, context):
    assert not SecurityKeyFactor(service).is_enrolled(user)
    with pytest.raises(FactorNotAvailable):
        service.begin_authentication(user, context)


def test_keys_registered_after_a_recovery_replace_the_lost_ones(service, user, context, fixed_challenge):
    register(service, user, context, fixed_challenge)
    db.session.execute(db.update(WebAuthnCredential).values(credential_id=b"lost key"))
    db.session.commit()
    fixed_challenge("registration")
    service.begin_registration(user, context)
    service.complete_registration(user, recorded("registration")["credential"], "New", context, replaces_lost_keys=True)
    assert [credential.nickname for credential in service.credentials(user.id)] == ["New"]


@pytest.mark.parametrize(
    ("issuer", "rp_id", "ok"),
    [
        ("https://auth.example.ca", "", True),
        ("https://auth.example.ca", "auth.example.ca", True),
        ("https://auth.example.ca", "example.ca", True),
        ("https://auth.example.ca", "ca", False),
        ("https://auth.example.ca", "other.ca", False),
        ("https://auth.example.ca", "xample.ca", False),
        ("http://localhost:5000", "", True),
    ],
)
def test_the_rp_id_must_be_the_issuers_host_or_a_registrable_suffix(issuer, rp_id, ok):
    config = load({"OIDC_ISSUER": issuer, "WEBAUTHN_RP_ID": rp_id})
    if ok:
        validate(config)
    else:
        with pytest.raises(ConfigError, match="WEBAUTHN_RP_ID"):
            validate(config)


def test_keys_are_summarised_by_nickname_kind_and_number(service, user, clock):
    """Issue 9 item 17: what the account pages name each key by. A synced passkey or one kept
    in the device (transport "internal" or "hybrid") is a passkey; a blank or "?" nickname
    (what older versions stored) is none."""
    for number, (nickname, transports, synced) in enumerate(
        (("Blue key", ["usb", "nfc"], False), ("?", ["internal"], False), ("", ["usb"], False), ("Phone", [], True))
    ):
        db.session.add(WebAuthnCredential(
            user_id=user.id, credential_id=bytes([number]) * 16, public_key=b"k", nickname=nickname,
            transports=transports, backup_eligible=synced, created_at=clock(),
        ))
    db.session.flush()
    summaries = service.summaries(user.id)
    assert [(key.nickname, key.is_passkey, key.number) for key in summaries] == [
        ("Blue key", False, 1), (None, True, 2), (None, False, 3), ("Phone", True, 4),
    ]
