"""`idp demo` (what `make run` runs) also registers the institution portal's client, with
the organization scope and the portal's redirect and post-logout URIs; --json only gains fields."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import main
from idp.extensions import db
from idp.oidc.models import Client


def test_demo_registers_the_institution_portal_and_stays_idempotent(app):
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--json"], obj=app, catch_exceptions=False)
    second = runner.invoke(main, ["demo", "--json"], obj=app, catch_exceptions=False)
    assert first.exit_code == second.exit_code == 0, first.output
    data, again = json.loads(first.stdout), json.loads(second.stdout)
    assert {"issuer", "client_id", "client_secret", "redirect_uri", "scope", "email", "password",
            "organization_id", "organization_number", "organization_name"} <= set(data)
    assert data["institution_portal_client_id"] == "institution-portal"
    assert data["institution_portal_url"] == "http://127.0.0.1:5003"
    assert again["institution_portal_client_secret"] != data["institution_portal_client_secret"]  # fresh each run
    with app.app_context():
        clients = db.session.scalars(select(Client).where(Client.client_id == "institution-portal")).all()
        assert len(clients) == 1
        assert clients[0].scope.split() == ["openid", "profile", "email", "organization", "organizations"]
        assert "client_credentials" in clients[0].grant_types  # its organizations API token
        from idp.orgs.models import Organization, OrganizationClient

        attached = db.session.execute(select(Organization.public_id).join(
            OrganizationClient, OrganizationClient.organization_id == Organization.id).where(
            OrganizationClient.client_id == "institution-portal")).scalars().all()
        assert attached == [data["organization_id"]]  # the demo DLI, once however often demo runs
        assert clients[0].redirect_uris == ["http://127.0.0.1:5003/callback"]
        assert clients[0].post_logout_redirect_uris == ["http://127.0.0.1:5003/signed-out"]
    assert "institution-portal" in runner.invoke(main, ["demo"], obj=app, catch_exceptions=False).output
