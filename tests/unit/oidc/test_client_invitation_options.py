"""ClientService: the invitations API scope and initiate_login_uri (issue 3)."""

from __future__ import annotations

import pytest

from idp.context import app_context
from idp.extensions import db
from idp.oidc.claims import SUPPORTED_SCOPES as ADVERTISED_SCOPES
from idp.oidc.client_rules import API_SCOPES, DEFAULT_SCOPE
from idp.oidc.clients import ClientService
from idp.oidc.errors import ClientNotFound, InvalidClientMetadata

WEB = "https://portal.example.ca/callback"


@pytest.fixture
def service(app):
    with app.app_context():
        context = app_context()
        yield ClientService(db.session, context.settings, context.clock, context.hasher)
        db.session.rollback()


def test_invitations_is_an_api_scope_granted_only_by_name(service):
    assert "invitations" in API_SCOPES
    assert "invitations" not in DEFAULT_SCOPE.split()
    assert "invitations" not in ADVERTISED_SCOPES
    client, _ = service.create(name="École", redirect_uris=[], grant_types=["client_credentials"],
                               scope="openid invitations")
    assert client.scope == "openid invitations"
    default, _ = service.create(name="Portal", redirect_uris=[WEB])
    assert "invitations" not in default.scope.split()


@pytest.mark.parametrize("uri", ["https://portal.example.ca/login", "http://127.0.0.1:5001/login",
                                 "https://portal.example.ca/login?from=passerelle"])
def test_initiate_login_uri_is_stored(service, uri):
    client, _ = service.create(name="Portal", redirect_uris=[WEB], initiate_login_uri=uri)
    assert client.initiate_login_uri == uri


@pytest.mark.parametrize("uri", ["http://portal.example.ca/login", "javascript:alert(1)", "https://portal.example.ca/#x",
                                 "https://user@portal.example.ca/", "https://*.example.ca/", "", "https://x/" + "a" * 2050])
def test_unsafe_initiate_login_uris_are_refused(service, uri):
    with pytest.raises(InvalidClientMetadata) as raised:
        service.create(name="Portal", redirect_uris=[WEB], initiate_login_uri=uri)
    assert "initiate_login_uri" in str(raised.value)


def test_update_changes_scope_and_initiate_login_uri_with_the_same_checks(service, clock):
    client, _ = service.create(name="Portal", redirect_uris=[WEB])
    clock.advance(seconds=60)
    updated = service.update(client.client_id, scope="openid email invitations",
                             initiate_login_uri="https://portal.example.ca/login")
    assert updated.scope == "openid email invitations"
    assert updated.initiate_login_uri == "https://portal.example.ca/login"
    assert updated.updated_at == clock()
    assert service.update(client.client_id, initiate_login_uri="").initiate_login_uri is None
    with pytest.raises(InvalidClientMetadata):
        service.update(client.client_id, scope="invitations")  # openid is still required
    with pytest.raises(InvalidClientMetadata):
        service.update(client.client_id, initiate_login_uri="ftp://portal.example.ca/")
    with pytest.raises(ClientNotFound):
        service.update("nobody", scope="openid")
