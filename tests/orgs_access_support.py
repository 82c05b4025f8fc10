"""Helpers for the organizations tests seen from relying parties (issue 11, phase 2a): an
organization whose members can sign in (they have the OIDC tests' password), and API
clients attached to it."""

from __future__ import annotations

from dataclasses import dataclass

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from tests.oidc_support import PASSWORD
from tests.orgs_support import DLI_NUMBER, OPERATOR, make_dli, org_service

PRIMARY_EMAIL = "pat@example.ca"
SECONDARY_EMAIL = "sam@example.ca"


@dataclass
class Dli:
    id: int
    public_id: str
    members: dict[str, int]  # email -> user id


def dli_with_members(app, people: tuple[tuple[str, str], ...] = ((PRIMARY_EMAIL, "primary"), (SECONDARY_EMAIL, "secondary")),
                     number: str = DLI_NUMBER, name_fr: str = "Collège Imaginaire",
                     name_en: str = "Imaginary College") -> Dli:
    """A DLI whose members registered through its invitations, as registration makes them,
    each with tests.oidc_support.PASSWORD so that SignIn can sign them in."""
    with app.app_context():
        ctx = app_context()
        service = org_service()
        organization = make_dli(service, number=number, name_fr=name_fr, name_en=name_en)
        members = {}
        for email, role in people:
            invitation, _code = service.invite(organization.id, email=email, role=role, inviter=OPERATOR)
            user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
                email, "Zoé", "Citoyenne", PASSWORD)
            service.invitations.accept(invitation.id, user.id)
            service.join_from_invitation(invitation, user)
            members[email] = user.id
        db.session.commit()
        return Dli(organization.id, organization.public_id, members)


def membership_id(app, user_id: int) -> int:
    from sqlalchemy import select

    from idp.orgs.models import Membership

    with app.app_context():
        return db.session.scalar(select(Membership.id).where(Membership.user_id == user_id))
