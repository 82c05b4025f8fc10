"""RegistrationService on a real database: pending accounts, activation links, verification
codes, expiry by the injected clock, single use, attempts, and completion."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.invitations.errors import InvitationEmailMismatch, InvitationNotFound
from idp.invitations.models import Invitation
from idp.mail.delivery import get_mail_service
from idp.mail.models import OutboxMessage
from idp.registration.errors import (
    AccountAlreadyActive,
    ActivationLinkExpired,
    ActivationLinkInvalid,
    ActivationLinkUsed,
    CodeResendTooSoon,
    InvalidPhoneNumber,
    InvalidVerificationCode,
    InvitationNoLongerValid,
    RegistrationStepExpired,
)
from idp.registration.models import Registration
from idp.registration.normalise import normalise_code, normalise_phone_number
from idp.security.redirects import with_query
from idp.terms.errors import TermsVersionChanged
from idp.terms.models import TermsAcceptance

PASSWORD = "Lanterne-Boréale-2049"
EMAIL = "zoe@example.ca"


def last_mail(template: str) -> dict:
    """The context of the newest queued message of this template (what its email says)."""
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id.desc()).limit(1)
    )
    assert message is not None, f"no {template} message queued"
    return get_mail_service().context_of(message)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def activation_token() -> str:
    return last_mail("activation")["activation_url"].rsplit("/", 1)[1]


def register_link(link_service, make_invitation, **extra):
    invitation, _ = make_invitation(**extra)
    link_service.register_by_link(invitation, email=EMAIL, given_name="Zoé", family_name="Citoyenne", locale="fr")
    return invitation


def register_code(service, make_invitation, email=EMAIL, **extra):
    invitation, code = make_invitation(kind="code", email=email)
    values = dict(plain_code=code, email=email, given_name="Zoé", family_name="Citoyenne",
                  phone_number="514 555-0123", plain_password=PASSWORD, locale="en", terms_version=None)
    values.update(extra)
    registration, handle = service.register_by_code(**values)
    return invitation, registration, handle


# The link journey


def test_link_form_creates_a_pending_account_and_queues_its_activation(link_service, make_invitation):
    register_link(link_service, make_invitation)
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user.is_pending and not user.is_active and user.password_hash is None and not user.email_verified
    mail = last_mail("activation")
    assert mail["valid_hours"] == 24 and mail["activation_url"].startswith("http://127.0.0.1:5000/register/activate/")
    token = activation_token()
    row = db.session.scalar(select(Registration))
    assert row.token_hash and token not in row.token_hash  # keyed hash at rest, never the token
    assert link_service.find_activation(token).id == row.id


def test_link_form_refuses_another_address(link_service, make_invitation):
    invitation, _ = make_invitation()
    with pytest.raises(InvitationEmailMismatch):
        link_service.register_by_link(invitation, email="other@example.ca", given_name="Zoé", family_name="C", locale="fr")
    assert count(User) == 0


def test_activation_link_expires_after_24_hours(link_service, make_invitation, clock):
    register_link(link_service, make_invitation)
    token = activation_token()
    clock.advance(hours=24, seconds=-1)
    assert link_service.find_activation(token)
    clock.advance(seconds=1)
    with pytest.raises(ActivationLinkExpired):
        link_service.confirm_activation(token)


def test_activation_link_is_single_use(link_service, make_invitation):
    register_link(link_service, make_invitation)
    token = activation_token()
    registration, handle = link_service.confirm_activation(token)
    assert db.session.get(User, registration.user_id).email_verified
    with pytest.raises(ActivationLinkUsed):
        link_service.confirm_activation(token)
    assert link_service.find_for_password_step(handle)[0].id == registration.id


def test_unknown_or_malformed_activation_tokens_are_invalid(link_service):
    for token in ("", "x", "a" * 5000, "\udcff", None):
        with pytest.raises(ActivationLinkInvalid):
            link_service.find_activation(token)


def test_a_new_activation_link_replaces_the_previous_one(link_service, make_invitation, ctx):
    invitation = register_link(link_service, make_invitation)
    first = activation_token()
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    link_service.resend_activation(user)
    second = activation_token()
    assert first != second
    with pytest.raises(ActivationLinkInvalid):
        link_service.find_activation(first)
    assert link_service.find_activation(second).invitation_id == invitation.id


def test_resend_activation_does_nothing_for_an_active_account(link_service, ctx):
    user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(EMAIL, "Zoé", "C", PASSWORD)
    link_service.resend_activation(user)
    assert count(OutboxMessage) == 0


def test_resend_activation_needs_a_pending_invitation(link_service, make_invitation, invitations):
    invitation = register_link(link_service, make_invitation)
    invitations.revoke(invitation.id)
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    link_service.resend_activation(user)
    assert count(OutboxMessage, OutboxMessage.template == "activation") == 1  # only the first


def test_registering_again_while_pending_updates_the_names(link_service, make_invitation):
    invitation = register_link(link_service, make_invitation)
    link_service.register_by_link(invitation, email=EMAIL, given_name="Zoë", family_name="Citoyen", locale="en")
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert (user.given_name, user.family_name, user.locale) == ("Zoë", "Citoyen", "en")
    assert count(User) == 1 and count(OutboxMessage, OutboxMessage.template == "activation") == 2


def test_an_active_account_gets_the_account_exists_email_instead(link_service, make_invitation, ctx):
    AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(EMAIL, "Zoé", "C", PASSWORD)
    register_link(link_service, make_invitation)
    assert count(User) == 1 and count(Registration) == 0
    assert last_mail("account-exists")["signin_url"] == "http://127.0.0.1:5000/signin"
    assert count(OutboxMessage, OutboxMessage.template == "activation") == 0


def account_exists_count() -> int:
    return count(OutboxMessage, OutboxMessage.template == "account-exists")


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=600)
def test_the_account_exists_email_is_sent_once_per_cooldown(link_service, service, make_invitation, ctx, clock):
    """Registering again and again with a taken address cannot flood its inbox."""
    zoe = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(EMAIL, "Zoé", "C", PASSWORD)
    invitation = register_link(link_service, make_invitation)
    assert account_exists_count() == 1 and link_service.was_recently_told_account_exists(zoe.id)
    clock.advance(seconds=599)
    for _ in range(3):
        link_service.register_by_link(invitation, email=EMAIL, given_name="Zoé", family_name="C", locale="fr")
    register_code(service, make_invitation)  # the code journey shares the cooldown
    assert account_exists_count() == 1
    clock.advance(seconds=2)
    link_service.register_by_link(invitation, email=EMAIL, given_name="Zoé", family_name="C", locale="fr")
    assert account_exists_count() == 2


@pytest.mark.settings(RECOVERY_EMAIL_COOLDOWN=600)
def test_the_account_exists_cooldown_is_per_account_and_ignores_other_mail(link_service, make_invitation, ctx):
    accounts = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)
    zoe = accounts.create_user(EMAIL, "Zoé", "C", PASSWORD)
    accounts.create_user("ana@example.ca", "Ana", "C", PASSWORD)
    get_mail_service().enqueue(to=EMAIL, template="password-reset", locale="fr", context={}, user_id=zoe.id)
    register_link(link_service, make_invitation)  # another email to Zoé does not start this cooldown
    invitation, _ = make_invitation(email="ana@example.ca")
    link_service.register_by_link(invitation, email="ana@example.ca", given_name="Ana", family_name="C", locale="fr")
    assert account_exists_count() == 2


def test_almost_there_completes_the_registration_once(link_service, make_invitation, ctx):
    invitation = register_link(link_service, make_invitation)
    registration, handle = link_service.confirm_activation(activation_token())
    completed = link_service.complete_with_password(registration, PASSWORD, locale="en", ip_address="127.0.0.1")
    user = completed.user
    assert user.is_active and user.email_verified and ctx.passwords.verify(user.password_hash, PASSWORD)
    assert db.session.get(Invitation, invitation.id).accepted_user_id == user.id
    assert count(TermsAcceptance, TermsAcceptance.user_id == user.id) == 1
    assert count(SecurityEvent, SecurityEvent.tag == str(EventTag.ACCOUNT_REGISTERED)) == 1
    assert completed.continue_uri is None
    with pytest.raises(AccountAlreadyActive):
        link_service.find_for_password_step(handle)
    with pytest.raises(AccountAlreadyActive):
        link_service.complete_with_password(registration, PASSWORD, locale="en")


def test_the_password_step_expires(link_service, make_invitation, clock):
    register_link(link_service, make_invitation)
    _, handle = link_service.confirm_activation(activation_token())
    clock.advance(hours=1)
    with pytest.raises(RegistrationStepExpired):
        link_service.find_for_password_step(handle)
    with pytest.raises(RegistrationStepExpired):
        link_service.find_for_password_step("not a handle")


def test_completion_refused_when_the_invitation_was_revoked_meanwhile(link_service, make_invitation, invitations):
    invitation = register_link(link_service, make_invitation)
    registration, _ = link_service.confirm_activation(activation_token())
    invitations.revoke(invitation.id)
    with pytest.raises(InvitationNoLongerValid) as raised:
        link_service.complete_with_password(registration, PASSWORD, locale="fr")
    assert raised.value.reason == "InvitationRevoked"


def test_completion_accepts_every_pending_invitation_for_the_address(link_service, make_invitation, invitations):
    first = register_link(link_service, make_invitation)
    other, _ = invitations.create(email=EMAIL, kind="link", inviter_name="Collège", created_by_kind="client",
                                  created_by_id="college")
    registration, _ = link_service.confirm_activation(activation_token())
    user = link_service.complete_with_password(registration, PASSWORD, locale="fr").user
    for invitation_id in (first.id, other.id):
        assert db.session.get(Invitation, invitation_id).accepted_user_id == user.id


# The code journey


def test_code_form_creates_a_pending_account_with_its_password(service, make_invitation, ctx):
    _, registration, handle = register_code(service, make_invitation, phone_number="(514) 555-0199")
    user = db.session.get(User, registration.user_id)
    assert user.is_pending and ctx.passwords.verify(user.password_hash, PASSWORD)
    assert user.phone_number == "+15145550199"  # E.164
    mail = last_mail("registration-code")
    assert normalise_code(mail["code"]) == mail["code"] and mail["valid_minutes"] == 30
    assert service.find_for_confirm_step(handle).id == registration.id


def test_a_wrong_invitation_code_or_address_is_one_error(service, make_invitation):
    _, code = make_invitation(kind="code")
    values = dict(given_name="Zoé", family_name="C", phone_number="514 555 0123", plain_password=PASSWORD,
                  locale="fr", terms_version=None)
    with pytest.raises(InvitationNotFound):
        service.register_by_code(plain_code=code, email="other@example.ca", **values)
    with pytest.raises(InvitationNotFound):
        service.register_by_code(plain_code="ABCD-EFGH-JKMN-PQRS", email=EMAIL, **values)
    assert count(User) == 0


def test_code_form_refuses_an_invalid_phone_number(service, make_invitation):
    with pytest.raises(InvalidPhoneNumber):
        register_code(service, make_invitation, phone_number="123")


def test_verification_code_completes_the_registration(service, make_invitation):
    invitation, registration, _ = register_code(service, make_invitation, terms_version=service.current_terms_version())
    completed = service.confirm_code("ZOE@example.ca", last_mail("registration-code")["code"])
    assert completed.user.is_active and completed.user.email_verified
    assert db.session.get(Invitation, invitation.id).accepted_at is not None
    assert count(TermsAcceptance, TermsAcceptance.user_id == completed.user.id) == 1


def test_verification_code_expires(service, make_invitation, clock):
    register_code(service, make_invitation)
    code = last_mail("registration-code")["code"]
    clock.advance(minutes=30)
    with pytest.raises(InvalidVerificationCode):
        service.confirm_code(EMAIL, code)


def test_five_wrong_codes_burn_the_code(service, make_invitation):
    _, registration, _ = register_code(service, make_invitation)
    code = last_mail("registration-code")["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(InvalidVerificationCode):
            service.confirm_code(EMAIL, wrong)
    assert db.session.get(Registration, registration.id).attempts == 5
    with pytest.raises(InvalidVerificationCode):
        service.confirm_code(EMAIL, code)


def test_a_new_code_waits_for_the_cooldown_and_replaces_the_old_one(service, make_invitation, clock):
    _, registration, _ = register_code(service, make_invitation)
    old = last_mail("registration-code")["code"]
    clock.advance(seconds=10)
    with pytest.raises(CodeResendTooSoon) as raised:
        service.request_new_code(registration=registration)
    assert raised.value.seconds == 20
    assert service.request_new_code(email=EMAIL) is None  # a typed address learns nothing
    clock.advance(seconds=20)
    service.request_new_code(registration=registration)
    new = last_mail("registration-code")["code"]
    if new != old:
        with pytest.raises(InvalidVerificationCode):
            service.confirm_code(EMAIL, old)
    assert service.confirm_code(EMAIL, new).user.is_active


def test_a_new_code_resets_the_attempts(service, make_invitation, clock):
    _, registration, _ = register_code(service, make_invitation)
    for _ in range(5):
        with pytest.raises(InvalidVerificationCode):
            service.confirm_code(EMAIL, "000000" if last_mail("registration-code")["code"] != "000000" else "111111")
    clock.advance(seconds=30)
    service.request_new_code(registration=registration)
    assert service.confirm_code(EMAIL, last_mail("registration-code")["code"]).user.is_active


def test_almost_there_refuses_consent_to_a_version_no_longer_in_force(link_service, make_invitation):
    register_link(link_service, make_invitation)
    registration, _ = link_service.confirm_activation(activation_token())
    with pytest.raises(TermsVersionChanged):
        link_service.complete_with_password(registration, PASSWORD, locale="en", terms_version="2000-01")
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user.is_pending and user.password_hash is None and count(TermsAcceptance) == 0
    current = link_service.current_terms_version()
    assert link_service.complete_with_password(registration, PASSWORD, locale="en", terms_version=current).user.is_active
    assert db.session.scalar(select(TermsAcceptance.version)) == current


def test_an_active_account_gets_a_row_no_code_completes(service, make_invitation, ctx, monkeypatch):
    AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(EMAIL, "Zoé", "C", PASSWORD)
    hashed = []
    monkeypatch.setattr(service.passwords, "hash", lambda plain: hashed.append(plain) or "x")
    _, registration, handle = register_code(service, make_invitation)
    assert hashed == [PASSWORD]  # the same argon2 work as a new account
    assert registration.user_id is None and service.find_for_confirm_step(handle).id == registration.id
    assert count(OutboxMessage, OutboxMessage.template == "registration-code") == 0
    assert last_mail("account-exists")
    for code in ("000000", "123456", "999999"):
        with pytest.raises(InvalidVerificationCode):
            service.confirm_code(EMAIL, code)


def test_a_newer_terms_version_is_not_accepted_on_the_persons_behalf(service, make_invitation):
    register_code(service, make_invitation, terms_version="an-older-version")
    completed = service.confirm_code(EMAIL, last_mail("registration-code")["code"])
    assert count(TermsAcceptance, TermsAcceptance.user_id == completed.user.id) == 0


def test_continue_uri_is_the_inviting_clients_initiate_login_uri(service, invitations, ctx):
    from idp.oidc.clients import ClientService

    client, _ = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
        name="Portail", redirect_uris=["https://rp.example/cb"])
    client.initiate_login_uri = "https://rp.example/login?from=passerelle"
    invitation, _ = invitations.create(email=EMAIL, kind="link", inviter_name="Portail", created_by_kind="client",
                                       created_by_id=client.client_id, client_id=client.client_id)
    uri = service.continue_uri(invitation)
    assert uri == "https://rp.example/login?from=passerelle&iss=http%3A%2F%2F127.0.0.1%3A5000&login_hint=zoe%40example.ca"


# Pure helpers


@pytest.mark.parametrize(("typed", "expected"), [
    ("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"), ("１２３４５６", "123456"),
    ("12345", None), ("1234567", None), ("abcdef", None), ("١٢٣٤٥٦", None), (None, None), ("1" * 100, None),
])
def test_normalise_code(typed, expected):
    assert normalise_code(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("514 555-0123", "+15145550123"), ("+33 1 23 45 67 89", "+33123456789"), ("１５１４５５５０１２３", "+15145550123"),
])
def test_phone_numbers_are_stored_in_e164(typed, expected):
    assert normalise_phone_number(typed, "CA") == expected


@pytest.mark.parametrize("typed", ["", "123", "514 555 01234", "hello", "+999 1234", "5" * 41, None])
def test_invalid_phone_numbers(typed):
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone_number(typed, "CA")


def test_with_query_keeps_existing_parameters():
    assert with_query("https://rp.example/l?a=1#f", iss="https://idp") == "https://rp.example/l?a=1&iss=https%3A%2F%2Fidp#f"
