"""`idp demo` (what `make run` runs) registers the document portal's client (organization
and invitations scopes, client_credentials) and the issuing organization « École
Imaginaire » with its own demo staff account as primary user; --json only gains fields."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import main
from idp.extensions import db
from idp.oidc.models import Client


def test_demo_registers_the_document_portal_and_the_demo_school(app):
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--json"], obj=app, catch_exceptions=False)
    second = runner.invoke(main, ["demo", "--json"], obj=app, catch_exceptions=False)
    assert first.exit_code == second.exit_code == 0, first.output
    data, again = json.loads(first.stdout), json.loads(second.stdout)
    assert data["document_portal_client_id"] == "document-portal"
    assert data["document_portal_url"] == "http://127.0.0.1:5004"
    assert again["document_portal_client_secret"] != data["document_portal_client_secret"]
    assert data["issuer_organization_name"] == "École Imaginaire"
    assert again["issuer_organization_id"] == data["issuer_organization_id"]  # once however often demo runs
    with app.app_context():
        from idp.accounts.models import User
        from idp.orgs.claims import organization_claim

        client = db.session.scalars(select(Client).where(Client.client_id == "document-portal")).one()
        assert client.scope.split() == ["openid", "profile", "email", "organization", "invitations"]
        assert "client_credentials" in client.grant_types
        assert client.redirect_uris == ["http://127.0.0.1:5004/callback"]
        assert client.post_logout_redirect_uris == ["http://127.0.0.1:5004/signed-out"]
        staff = db.session.scalars(select(User).where(User.email == data["staff_email"])).one()
        claim = organization_claim(db.session, staff.id)
        assert claim["kind"] == "issuer" and claim["role"] == "primary"
        assert claim["id"] == data["issuer_organization_id"] and claim["name"]["fr"] == "École Imaginaire"
    assert "École Imaginaire" in runner.invoke(main, ["demo"], obj=app, catch_exceptions=False).output
