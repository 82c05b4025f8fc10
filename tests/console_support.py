"""Agents, people and console sessions for the console's tests (issue 16)."""

from __future__ import annotations

from datetime import UTC, timedelta

from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.console.roles import RoleService
from idp.context import app_context
from idp.extensions import db
from idp.mfa.models import RecoveryCode, TotpAuthenticator, WebAuthnCredential
from idp.signin.assurance import ACR_MFA, ACR_MFA_PHISHING_RESISTANT
from idp.signin.sessions import SessionService
from tests.webauthn_support import SoftwareAuthenticator

PASSWORD = "correct horse battery staple"
ORIGIN = "http://127.0.0.1:5000"
RP_ID = "127.0.0.1"
KEY_AMR = ["pwd", "hwk", "mfa"]
APP_AMR = ["pwd", "otp", "mfa"]


def create_person(email: str, given: str = "Zoé", family: str = "Citoyenne", locale: str | None = None) -> User:
    """In an app context: an active account."""
    ctx = app_context()
    user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(email, given, family, PASSWORD)
    user.locale = locale
    db.session.flush()
    return user


def add_key(user: User, key: SoftwareAuthenticator | None = None, nickname: str = "Clé bleue") -> SoftwareAuthenticator:
    """Register a security key to the account (as the set-up would) and mark two-factor set up."""
    key = key or SoftwareAuthenticator(ORIGIN, RP_ID)
    db.session.add(WebAuthnCredential(user_id=user.id, credential_id=key.credential_id,
                                      public_key=key.cose_public_key(), sign_count=0, transports=["usb"],
                                      nickname=nickname))
    user.mfa_enrolled_at = user.mfa_enrolled_at or app_context().clock()
    db.session.flush()
    return key


def add_app_and_codes(user: User) -> None:
    """An authenticator app and recovery codes (their secrets are dummies: never shown)."""
    now = app_context().clock()
    db.session.add(TotpAuthenticator(user_id=user.id, secret_encrypted=b"SECRET-TOTP-BYTES", confirmed_at=now))
    for number in range(3):
        db.session.add(RecoveryCode(user_id=user.id, code_hash=f"RECOVERYHASH{number}"))
    user.mfa_enrolled_at = now
    user.email_code_enrolled_at = now
    db.session.flush()


def make_agent(app, email: str, role: str | None, *, with_key: bool = True) -> int:
    with app.app_context():
        user = create_person(email, "Agent", "Martin")
        if with_key:
            add_key(user)
        if role:
            RoleService(db.session, app_context().clock).grant(user, role)
        db.session.commit()
        return user.id


def sign_in_as(app, client, user_id: int, *, amr=None, key_age: int = 0) -> None:
    """Give the test client a session of this account whose key was used key_age seconds ago."""
    amr = list(amr or KEY_AMR)
    with app.app_context():
        ctx = app_context()
        acr = ACR_MFA_PHISHING_RESISTANT if "hwk" in amr or "swk" in amr else ACR_MFA
        _, handle = SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            user_id, amr, acr, ctx.clock() - timedelta(seconds=key_age), "Mozilla/5.0 Chrome/126.0")
        db.session.commit()
    client.set_cookie("passerelle_session", handle)
    client.set_cookie("passerelle_lang", "en")  # the pages in English unless a test says otherwise


def find_person(client, email: str):
    """Search the console by exact address, as a service-desk agent must before opening a
    person's pages (PeopleService.require_found). Returns the search's response."""
    from tests.oidc_support import csrf_token

    page = client.get("/admin/")
    return client.post("/admin/", data={"csrf_token": csrf_token(page.text), "email": email})


def console_template_contexts() -> dict:
    """Contexts for the console's templates, for the every-template test
    (tests/unit/test_translations.py)."""
    from datetime import datetime

    from flask_babel import get_locale

    from idp.console.forms import ReasonForm, ResetTwoFactorForm, SearchForm
    from idp.console.people import (
        EventRow,
        MembershipRow,
        MethodRow,
        Profile,
        SessionRow,
    )
    from idp.console.roles import OPERATOR, Agent
    from idp.console.views import ACTIONS, VERIFICATION_NAMES
    from idp.web.text import EMAIL_TEXT

    when = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    profile = Profile(
        id=2, name="Zoé Citoyenne", email="zoe@example.ca", locale="fr", status="locked",
        registered_at=when, last_signin_at=when, two_factor_set_up=True, recovery_codes_left=7,
        methods=(MethodRow("totp", None), MethodRow("webauthn", "Clé bleue", False, 1), MethodRow("email_code", None)),
        sessions=(SessionRow(when, when, "Mozilla/5.0", ("Portail des documents",)),),
        memberships=(MembershipRow("Collège Imaginaire", "Imaginary College", "O123456789012", "primary"),),
        events=(EventRow("account:signin:success", when, "192.0.2.1"),),
    )
    agent = Agent(1, frozenset({OPERATOR}))
    from idp.console.org_views import STATE_ACTIONS
    from idp.console.organizations import (
        MemberRow,
        OrganizationPage,
        OrganizationRow,
        RequestRow,
    )
    from idp.orgs.web import (
        KIND_NAMES,
        REQUEST_KIND_NAMES,
        REQUEST_STATE_NAMES,
        ROLE_NAMES,
    )

    names = {"kind_names": KIND_NAMES, "request_kind_names": REQUEST_KIND_NAMES,
             "request_state_names": REQUEST_STATE_NAMES, "role_names": ROLE_NAMES}
    organization = OrganizationRow("org_abc", "Collège Imaginaire", "Imaginary College", "O123456789012", "dli", "active", 1)
    pending = RequestRow("req_abc", organization, "remove_secondary", "pending", "pat@example.ca", "sam@example.ca",
                         "Sam a quitté", when, None, None)
    decided = RequestRow("req_def", organization, "change_primary", "rejected", "pat@example.ca", "new@example.ca",
                         "Congé", when, "ops@example.ca (console)", "Pas confirmé")

    def email():
        return {"issuer": "http://127.0.0.1:5000", "help_url": "http://127.0.0.1:5000/help",
                "locale": str(get_locale()), "email_text": EMAIL_TEXT, "given_name": "Ana",
                "account_url": "http://127.0.0.1:5000/account", "reset_at": when.isoformat()}

    from tests.console_clients_support import client_template_contexts
    from tests.console_ops_support import console_ops_template_contexts

    return {
        **client_template_contexts(),
        **console_ops_template_contexts(),
        "console/index.html": lambda: {"form": SearchForm(), "results": [], "message": None, "agent": agent},
        "console/person.html": lambda: {"person": profile, "actions": ACTIONS, "notice": ACTIONS["unlock"].done,
                                        "agent": agent, "is_self": False},
        "console/action.html": lambda: {"form": ReasonForm(), "action": "disable", "spec": ACTIONS["disable"],
                                        "user_id": 2, "name": "Zoé Citoyenne"},
        "console/reset_two_factor.html": lambda: {
            "form": ResetTwoFactorForm(), "user_id": 2, "name": "Zoé Citoyenne",
            "choices": [(value, str(label), None) for value, label in VERIFICATION_NAMES.items()]},
        **{f"email/two-factor-reset/{name}": email for name in ("subject.txt", "body.txt", "body.html")},
        "console/organizations.html": lambda: {"organizations": [organization], **names},
        "console/organization.html": lambda: {"page": OrganizationPage(
            organization, (MemberRow(3, "Pat Citoyenne", "pat@example.ca", "primary"),), (pending, decided)), **names},
        "console/requests.html": lambda: {"requests": [pending], "notice": None, **names},
        "console/decide.html": lambda: {"form": ReasonForm(), "row": pending, "decision": "approve", **names},
        "console/organization_state.html": lambda: {
            "form": ReasonForm(), "page": OrganizationPage(organization, (), ()), "action": "disable",
            "title": STATE_ACTIONS["disable"][0], "explanation": STATE_ACTIONS["disable"][1]},
    }
