"""Helpers for the organizations tests: services built from the app, members made the way
registration makes them (an organization invitation accepted, then joined), and the
contexts the every-template-renders test needs for the organization emails."""

from __future__ import annotations

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.mail.services import MailService
from idp.orgs.requests import ChangeRequestService
from idp.orgs.memberships import Inviter

OPERATOR = Inviter(operator="ana")
DLI_NUMBER = "O123456789012"


def org_service() -> ChangeRequestService:
    """The organizations service on the app's session (inside an app context)."""
    ctx = app_context()
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    return ChangeRequestService(db.session, ctx.settings, ctx.clock, ctx.hasher, mail)


def make_user(email: str, given_name: str = "Zoé", locale: str | None = None):
    ctx = app_context()
    user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
        email, given_name, "Citoyenne", "a password"
    )
    user.locale = locale
    return user


def make_dli(service, number: str = DLI_NUMBER, name_fr: str = "Collège Imaginaire",
             name_en: str = "Imaginary College"):
    return service.create(kind="dli", number=number, name_fr=name_fr, name_en=name_en, by_operator="ana")


def join(service, organization, email: str, role: str = "secondary", *, inviter: Inviter = OPERATOR,
         locale: str | None = None):
    """Invite the address, then register it as registration does: a new account accepts
    the invitation and joins. Returns (membership, user)."""
    invitation, _code = service.invite(organization.id, email=email, role=role, inviter=inviter)
    user = make_user(email, locale=locale)
    service.invitations.accept(invitation.id, user.id)
    return service.join_from_invitation(invitation, user), user


def org_with_members(service, secondaries: tuple[str, ...] = ("sam@example.ca",)):
    """A DLI with primary pat@example.ca and the given secondary users."""
    organization = make_dli(service)
    primary, primary_user = join(service, organization, "pat@example.ca", "primary")
    members = [join(service, organization, email) for email in secondaries]
    return organization, (primary, primary_user), members


def organization_email_contexts() -> dict:
    """Context for rendering each organization email template outside the outbox (the
    every-template-renders test in tests/unit/test_translations.py), as render_email gives."""
    from flask_babel import get_locale

    from idp.web.text import EMAIL_TEXT

    def context(**extra):
        return lambda: {
            "issuer": "http://127.0.0.1:5000", "help_url": "http://127.0.0.1:5000/help",
            "locale": str(get_locale()), "email_text": EMAIL_TEXT, "given_name": "Zoé",
            "organization_name_fr": "Collège Imaginaire", "organization_name_en": "Imaginary College",
            "signin_url": "http://127.0.0.1:5000/signin", "cant_sign_in_url": "http://127.0.0.1:5000/signin/help",
            **extra,
        }

    request = context(request_id="r3qu3st", request_kind="change_primary", state="approved", is_requester=True,
                      target_name="Sam Citoyen", former_primary_becomes="secondary", decision_reason="Vérifié.",
                      waits_for_registration=False, organization="Collège Imaginaire", target="Sam Citoyen")
    names = ("subject.txt", "body.txt", "body.html")
    return {
        **{f"email/organization-account-exists/{name}": context() for name in names},
        **{f"email/organization-status-changed/{name}": context(disabled=True) for name in names},
        **{f"email/organization-request-submitted/{name}": request for name in (*names, "what.txt")},
        **{f"email/organization-request-decided/{name}": request for name in (*names, "what.txt")},
    }


def organization_page_contexts() -> dict:
    """Context for rendering each primary user's page (templates/orgs/) outside its view, as
    idp/orgs/views.py gives it: one member of each role, an invitation pending and one
    expired, a request of each kind."""
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from idp.orgs.forms import NEW_PRIMARY, ActionForm, ChangePrimaryForm, InviteForm, RemoveSecondaryForm
    from idp.orgs.web import KIND_NAMES, REQUEST_KIND_NAMES, REQUEST_STATE_NAMES, ROLE_NAMES

    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    organization = SimpleNamespace(public_id="0rg4n1z4t10n", number=DLI_NUMBER, kind="dli")
    primary = (SimpleNamespace(id=1, role="primary"), SimpleNamespace(name="Pat Tremblay", email="pat@example.ca"))
    secondary = (SimpleNamespace(id=2, role="secondary"), SimpleNamespace(name="Sam Citoyen", email="sam@example.ca"))

    def page(**extra) -> dict:
        return {
            "organization": organization, "organization_name": "Collège Imaginaire", "kind_name": KIND_NAMES["dli"],
            "is_dli": True, **extra,
        }

    def invitation(number: int, expires_at):
        return SimpleNamespace(id=number, email=f"lou{number}@example.ca", organization_role="secondary",
                               expires_at=expires_at)

    def request(kind: str, state: str, **extra):
        values = {"kind": kind, "state": state, "reason": "Départ en juin.", "created_at": now, "decided_at": None,
                  "decision_reason": None, "former_primary_becomes": None, "new_email": None, **extra}
        return SimpleNamespace(**values)

    return {
        "orgs/overview.html": lambda: page(
            role_names=ROLE_NAMES, form=ActionForm(), members=[primary, secondary], now=now,
            invitations=[invitation(1, now + timedelta(days=3)), invitation(2, now - timedelta(days=1))],
            notices=[("status", "Envoyé."), ("error", "Refusé.")],
        ),
        "orgs/invite.html": lambda: page(form=InviteForm(data={"locale": "fr"})),
        "orgs/remove_secondary.html": lambda: page(
            form=RemoveSecondaryForm(data={"member": "2"}), choices=[(2, "Sam Citoyen (sam@example.ca)", None)],
        ),
        "orgs/change_primary.html": lambda: page(form=ChangePrimaryForm(), secondaries=[secondary], new_choice=NEW_PRIMARY),
        "orgs/requests.html": lambda: page(
            kind_names=REQUEST_KIND_NAMES, state_names=REQUEST_STATE_NAMES, notices=["Envoyée."],
            rows=[
                (request("remove_secondary", "pending"), secondary[1]),
                (request("change_primary", "rejected", decided_at=now, decision_reason="Vérifié.",
                         former_primary_becomes="leave", new_email="nia@example.ca"), None),
            ],
        ),
    }


def organization_summary():
    """A membership as the account home shows it (idp.orgs.web.organization_summaries)."""
    from idp.orgs.web import KIND_NAMES, ROLE_NAMES, OrganizationSummary

    return OrganizationSummary(public_id="0rg4n1z4t10n", name="Collège Imaginaire", number=DLI_NUMBER,
                               kind=str(KIND_NAMES["dli"]), role=str(ROLE_NAMES["primary"]), is_primary=True,
                               is_active=True)
