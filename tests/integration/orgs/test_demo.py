"""`idp demo` (what `make run` prints) also makes a demo DLI whose primary user is the demo
user, and grants the demo client the organization scope (issue 11)."""

from __future__ import annotations

import json

from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.oidc.models import Client
from idp.orgs.models import Membership, Organization


def test_demo_makes_the_demo_user_primary_of_a_demo_dli_and_stays_idempotent(app, run_idp):
    first = run_idp("demo", "--json")
    second = run_idp("demo", "--json")
    assert first.exit_code == second.exit_code == 0, first.output
    data, again = json.loads(first.stdout), json.loads(second.stdout)
    # Fields only added: what `make run` and scripts read is still there.
    assert {"issuer", "client_id", "client_secret", "redirect_uri", "email", "password"} <= set(data)
    assert (data["organization_number"], data["organization_name"]) == ("O123456789012", "Collège Imaginaire")
    assert data["organization_name_en"] == "Imaginary College"  # the institution portal's demo reads it
    assert again["organization_id"] == data["organization_id"]
    with app.app_context():
        # The demo DLI; `idp demo` also makes the document portal's issuing school (issue 13).
        organization = db.session.scalar(select(Organization).where(Organization.kind == "dli"))
        rows = db.session.execute(select(Membership, User).join(User, User.id == Membership.user_id)
                                  .where(Membership.organization_id == organization.id)).all()
        assert [(user.email, membership.role, membership.state) for membership, user in rows] == [
            ("demo@passerelle.test", "primary", "active")]
        assert organization.public_id == data["organization_id"] and organization.kind == "dli"
        scope = db.session.scalar(select(Client.scope).where(Client.client_id == "demo-rp")).split()
        assert scope.count("organization") == 1 and data["scope"].split() == scope
    assert "Collège Imaginaire O123456789012" in run_idp("demo").output


def test_demo_leaves_a_dli_whose_primary_is_someone_else(app, run_idp):
    from tests.orgs_support import join, make_dli, org_service

    with app.app_context():
        service = org_service()
        join(service, make_dli(service), "pat@example.ca", "primary")
        db.session.commit()
    result = run_idp("demo")
    assert result.exit_code == 0 and "not its primary user" in result.output
