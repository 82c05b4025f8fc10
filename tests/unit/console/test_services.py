"""The console's services (issue 16): roles, what a person page gets (nothing secret), and
each action's effects and audit event with the agent and the reason."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from idp.accounts.unlock import UnlockService
from idp.audit import EventTag, SecurityEvent
from idp.console.actions import PersonActions
from idp.console.errors import (
    NotAllowed,
    NothingToDo,
    OwnAccount,
    ReasonRequired,
    UnknownRole,
    VerificationRequired,
)
from idp.console.people import PeopleService
from idp.console.roles import OPERATOR, SERVICE_DESK, Agent, RoleService
from idp.context import app_context
from idp.extensions import db
from idp.logout.services import LogoutService
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from idp.mfa.models import RecoveryCode, TotpAuthenticator, WebAuthnCredential
from idp.signin.models import UserSession
from idp.signin.sessions import SessionService
from tests.console_support import add_app_and_codes, add_key, create_person

SECRETS = ("SECRET-TOTP-BYTES", "RECOVERYHASH", "$argon2")


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def roles(ctx):
    return RoleService(db.session, ctx.clock)


@pytest.fixture
def people(ctx):
    return PeopleService(db.session, ctx.settings, ctx.clock, LogoutService(db.session, ctx.settings, ctx.clock))


@pytest.fixture
def resent():
    return []


@pytest.fixture
def actions(ctx, resent):
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    return PersonActions(db.session, ctx.settings, ctx.clock, SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher),
                         UnlockService(db.session, ctx.settings, ctx.clock, ctx.hasher), resent.append, mail)


@pytest.fixture
def desk(ctx, roles):
    user = create_person("desk@example.ca", "Dana", "Desk")
    roles.grant(user, SERVICE_DESK)
    return roles.agent(user)


@pytest.fixture
def person(ctx):
    user = create_person("zoe@example.ca", locale="fr")
    add_app_and_codes(user)
    add_key(user, nickname="Clé bleue")
    return user


def events(tag: EventTag) -> list[SecurityEvent]:
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


def test_roles_are_granted_and_revoked_with_events(ctx, roles):
    user = create_person("ana@example.ca")
    assert roles.agent(user) is None
    assert roles.grant(user, OPERATOR) and not roles.grant(user, OPERATOR)
    assert roles.agent(user) == Agent(user.id, frozenset({OPERATOR}))
    assert roles.revoke(user, OPERATOR) and not roles.revoke(user, OPERATOR)
    assert roles.agent(user) is None
    assert [event.details["role"] for event in events(EventTag.CONSOLE_ROLE_GRANTED)] == [OPERATOR]
    assert len(events(EventTag.CONSOLE_ROLE_REVOKED)) == 1
    with pytest.raises(UnknownRole):
        roles.grant(user, "admin")


def test_a_disabled_agent_is_no_agent(ctx, roles, desk):
    from idp.accounts.models import User

    user = db.session.get(User, desk.user_id)
    user.disabled_at = ctx.clock()
    assert roles.agent(user) is None


def test_service_desk_finds_by_exact_email_only(ctx, people, desk, person):
    assert people.find_by_email(desk, "ZOE@example.ca ").id == person.id
    assert people.find_by_email(desk, "zoe@example") is None
    assert people.find_by_email(desk, "not an address") is None
    with pytest.raises(NotAllowed):
        people.search_by_name(desk, "Citoy")
    operator = Agent(desk.user_id, frozenset({OPERATOR}))
    assert [row.id for row in people.search_by_name(operator, "citoy")] == [person.id]
    assert people.search_by_name(operator, "%") == []  # LIKE wildcards are literal text


def test_profile_holds_no_secret_and_is_audited(ctx, people, desk, person):
    profile = people.profile(desk, person.id)
    assert profile.status == "active" and profile.two_factor_set_up and profile.recovery_codes_left == 3
    assert [(method.kind, method.nickname) for method in profile.methods] == [
        ("totp", None), ("webauthn", "Clé bleue"), ("email_code", None)]
    text = repr(dataclasses.asdict(profile))
    for secret in SECRETS:
        assert secret not in text
    assert "password" not in {field.name for field in dataclasses.fields(profile)}
    [viewed] = events(EventTag.CONSOLE_PERSON_VIEWED)
    assert viewed.user_id == person.id and viewed.details["agent_id"] == desk.user_id


def test_every_action_needs_a_reason_and_refuses_the_agents_own_account(ctx, actions, desk, person):
    for method in ("end_sessions", "disable", "enable", "unlock", "resend_activation"):
        with pytest.raises(ReasonRequired):
            getattr(actions, method)(desk, person.id, "   ")
        with pytest.raises(OwnAccount):
            getattr(actions, method)(desk, desk.user_id, "because")
    with pytest.raises(ReasonRequired):
        actions.reset_two_factor(desk, person.id, "callback_known_number", "")


def test_disable_ends_sessions_and_names_agent_and_reason(ctx, actions, desk, person):
    SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(person.id, ["pwd"], "x", ctx.clock(), None)
    assert actions.disable(desk, person.id, "Compte compromis, appel du 7 déc.") == 1
    assert person.disabled_at is not None
    assert db.session.scalar(select(func.count(UserSession.id)).where(UserSession.ended_at.is_(None))) == 0
    [event] = events(EventTag.ACCOUNT_DISABLED)
    assert event.details["agent_id"] == desk.user_id and event.details["reason"] == "Compte compromis, appel du 7 déc."
    with pytest.raises(NothingToDo):
        actions.disable(desk, person.id, "again")
    actions.enable(desk, person.id, "Vérifié")
    assert person.disabled_at is None and len(events(EventTag.ACCOUNT_ENABLED)) == 1


def test_reset_two_factor_removes_methods_emails_the_person_and_happens_once(ctx, actions, desk, person):
    with pytest.raises(VerificationRequired):
        actions.reset_two_factor(desk, person.id, "trust me", "Appel")
    removed = actions.reset_two_factor(desk, person.id, "callback_known_number", "Rappelée au numéro au dossier")
    assert removed == ["totp", "webauthn", "email_code", "recovery_codes"]
    for model in (TotpAuthenticator, WebAuthnCredential, RecoveryCode):
        assert db.session.scalar(select(func.count(model.id)).where(model.user_id == person.id)) == 0
    assert person.mfa_enrolled_at is None and person.email_code_enrolled_at is None
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "two-factor-reset"))
    assert message.locale == "fr"
    [event] = events(EventTag.CONSOLE_TWO_FACTOR_RESET)
    assert event.details["agent_id"] == desk.user_id and event.details["verification"] == "callback_known_number"
    assert event.details["reason"] == "Rappelée au numéro au dossier"
    with pytest.raises(NothingToDo):  # a second agent at once: one effect
        actions.reset_two_factor(desk, person.id, "callback_known_number", "Encore")
    assert len(events(EventTag.CONSOLE_TWO_FACTOR_RESET)) == 1


def test_unlock_and_resend_need_the_right_state(ctx, actions, desk, person, resent):
    with pytest.raises(NothingToDo):
        actions.unlock(desk, person.id, "Bloquée")
    person.unlock_required_at = ctx.clock()
    actions.unlock(desk, person.id, "Bloquée au téléphone")
    assert person.unlock_required_at is None
    [event] = events(EventTag.ACCOUNT_UNLOCKED)
    assert event.details == {**event.details, "by": "console", "agent_id": desk.user_id, "reason": "Bloquée au téléphone"}
    with pytest.raises(NothingToDo):
        actions.resend_activation(desk, person.id, "Lien perdu")
    person.activated_at = None
    actions.resend_activation(desk, person.id, "Lien perdu")
    assert resent == [person] and len(events(EventTag.CONSOLE_ACTIVATION_RESENT)) == 1


def test_the_service_desk_cannot_act_on_another_agent(ctx, roles, actions, desk):
    operator = create_person("ops@example.ca", "Olivier", "Ops")
    roles.grant(operator, OPERATOR)
    add_app_and_codes(operator)
    with pytest.raises(NotAllowed):
        actions.disable(desk, operator.id, "Pourquoi pas")
    with pytest.raises(NotAllowed):
        actions.reset_two_factor(desk, operator.id, "callback_known_number", "Appel")
    assert operator.disabled_at is None and operator.mfa_enrolled_at is not None
    as_operator = roles.agent(operator)
    actions.disable(as_operator, desk.user_id, "Départ de l'agente")  # an operator may


def test_a_view_is_recorded_once_per_visit(ctx, people, desk, person):
    people.profile(desk, person.id)
    people.profile(desk, person.id)  # the page again after an action
    assert len(events(EventTag.CONSOLE_PERSON_VIEWED)) == 1
    ctx.clock.advance(minutes=31)
    people.profile(desk, person.id)
    assert len(events(EventTag.CONSOLE_PERSON_VIEWED)) == 2
