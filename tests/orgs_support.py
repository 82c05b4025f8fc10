"""Helpers for the organizations tests: services built from the app, members made the way
registration makes them (an organization invitation accepted, then joined), and the
contexts the every-template-renders test needs for the organization emails."""

from __future__ import annotations

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.mail.services import MailService
from idp.orgs.requests import ChangeRequestService
from idp.orgs.services import Inviter

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
