"""ClientService: every registration rule, secrets at rest, rotation and deletion."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey

from idp.context import app_context
from idp.extensions import db
from idp.oidc.clients import ClientService
from idp.oidc.errors import ClientNotFound, InvalidClientMetadata
from idp.oidc.models import Client

WEB = "https://portal.example.ca/callback"


@pytest.fixture
def service(app):
    with app.app_context():
        context = app_context()
        yield ClientService(db.session, context.settings, context.clock, context.hasher)
        db.session.rollback()


@pytest.fixture
def public_jwks():
    return {"keys": [ECKey.generate_key("P-256", parameters={"kid": "rp-1"}).as_dict(private=False)]}


def test_create_returns_plain_secret_and_stores_only_its_keyed_hash(service):
    client, plain_secret = service.create(name="Portal", redirect_uris=[WEB])
    assert plain_secret and len(plain_secret) >= 43  # 32 random bytes (OIDC-12: at least 256 bits)
    assert client.secret_hash != plain_secret
    assert plain_secret not in repr(vars(client))
    assert client.secret_hash == service.hasher.hash("client_secret", plain_secret)
    assert service.is_secret_valid(client, plain_secret)
    assert not service.is_secret_valid(client, plain_secret + "x")


def test_create_uses_defaults_from_settings_and_redirect_host(service):
    client, _ = service.create(name="Portal", redirect_uris=[WEB])
    assert client.id_token_signed_response_alg == "ES256"
    assert client.subject_type == "pairwise"
    assert client.sector_identifier == "portal.example.ca"
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert set(client.client_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_redirect_uri_is_stored_byte_exact(service):
    uri = "https://Portal.Example.ca:8443/cb/x?a=%2F&b=..&c=1"
    client, _ = service.create(name="Portal", redirect_uris=[uri], post_logout_redirect_uris=[uri])
    assert client.redirect_uris == [uri]
    assert client.post_logout_redirect_uris == [uri]


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://portal.example.ca/callback",
        "http://127.0.0.2.example.ca/callback",
        "https://portal.example.ca/callback#frag",
        "https://portal.example.ca/callback#",
        "https://*.example.ca/callback",
        "https://portal.example.ca/*",
        "https://user:pass@portal.example.ca/callback",
        "https://evil@portal.example.ca/callback",
        "/callback",
        "portal.example.ca/callback",
        "https:///callback",
        "https://portal.example.ca:99999/callback",
        "https://portal.example.ca/call back",
        "https://portal.example.ca/\\evil",
        "HTTPS://portal.example.ca/callback",
        "com.example.app:/callback",
        "",
        "https://portal.example.ca/" + "a" * 2048,
    ],
)
def test_unsafe_redirect_uri_is_refused(service, uri):
    with pytest.raises(InvalidClientMetadata):
        service.create(name="Portal", redirect_uris=[uri])
    with pytest.raises(InvalidClientMetadata):
        service.create(name="Portal", redirect_uris=[WEB], post_logout_redirect_uris=[uri])


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:5001/callback", "http://localhost/callback", "http://[::1]:8080/callback"]
)
def test_http_redirect_uri_is_accepted_on_loopback(service, uri):
    client, _ = service.create(name="Local", redirect_uris=[uri])
    assert client.redirect_uris == [uri]


def test_unknown_auth_method_is_refused(service):
    with pytest.raises(InvalidClientMetadata, match="auth method"):
        service.create(name="P", redirect_uris=[WEB], auth_method="client_secret_jwt")


def test_public_client_must_use_auth_method_none_and_back(service):
    with pytest.raises(InvalidClientMetadata, match="public"):
        service.create(name="P", redirect_uris=[WEB], is_public=True)
    with pytest.raises(InvalidClientMetadata, match="public"):
        service.create(name="P", redirect_uris=[WEB], auth_method="none")


def test_public_client_has_no_secret(service):
    client, plain_secret = service.create(name="App", redirect_uris=[WEB], is_public=True, auth_method="none")
    assert plain_secret is None and client.secret_hash is None and client.is_public


def test_public_client_cannot_use_client_credentials(service):
    with pytest.raises(InvalidClientMetadata, match="client_credentials"):
        service.create(
            name="App",
            redirect_uris=[WEB],
            is_public=True,
            auth_method="none",
            grant_types=["authorization_code", "client_credentials"],
        )


def test_private_key_jwt_client_needs_a_jwks(service):
    with pytest.raises(InvalidClientMetadata, match="JWKS"):
        service.create(name="P", redirect_uris=[WEB], auth_method="private_key_jwt")


def test_private_key_jwt_client_gets_no_secret(service, public_jwks):
    client, plain_secret = service.create(
        name="P", redirect_uris=[WEB], auth_method="private_key_jwt", jwks=public_jwks
    )
    assert plain_secret is None and client.secret_hash is None
    assert client.jwks == public_jwks


def test_private_key_in_jwks_is_refused(service):
    private = {"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}
    with pytest.raises(InvalidClientMetadata, match="public keys only"):
        service.create(name="P", redirect_uris=[WEB], auth_method="private_key_jwt", jwks=private)


def test_symmetric_key_in_jwks_is_refused(service):
    jwks = {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}
    with pytest.raises(InvalidClientMetadata, match="public keys only"):
        service.create(name="P", redirect_uris=[WEB], auth_method="private_key_jwt", jwks=jwks)


def test_unparseable_jwks_is_refused(service):
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "x": "not-a-point"}]}
    with pytest.raises(InvalidClientMetadata, match="parsed"):
        service.create(name="P", redirect_uris=[WEB], auth_method="private_key_jwt", jwks=jwks)


def test_jwks_without_private_key_jwt_verifies_request_objects(service, public_jwks):
    # Issue 14 (JAR): any client may register keys to sign its request objects with.
    client, plain_secret = service.create(name="P", redirect_uris=[WEB], jwks=public_jwks)
    assert client.jwks == public_jwks and plain_secret


def test_jwks_and_jwks_uri_together_are_refused(service, public_jwks):
    with pytest.raises(InvalidClientMetadata, match="not both"):
        service.create(name="P", redirect_uris=[WEB], jwks=public_jwks, jwks_uri="https://rp.example/jwks.json")


@pytest.mark.parametrize("grants", [["password"], ["implicit"], [], ["refresh_token"]])
def test_unsupported_or_inconsistent_grant_types_are_refused(service, grants):
    with pytest.raises(InvalidClientMetadata):
        service.create(name="P", redirect_uris=[WEB], grant_types=grants)


def test_authorization_code_needs_a_redirect_uri(service):
    with pytest.raises(InvalidClientMetadata, match="redirect URI"):
        service.create(name="P", redirect_uris=[])


def test_client_credentials_only_client_needs_no_redirect_uri(service):
    client, plain_secret = service.create(name="Batch", redirect_uris=[], grant_types=["client_credentials"])
    assert plain_secret and client.grant_types == ["client_credentials"]
    assert client.sector_identifier == client.client_id


def test_unknown_subject_type_is_refused(service):
    with pytest.raises(InvalidClientMetadata, match="subject type"):
        service.create(name="P", redirect_uris=[WEB], subject_type="anonymous")


def test_unknown_id_token_alg_is_refused(service):
    with pytest.raises(InvalidClientMetadata, match="algorithm"):
        service.create(name="P", redirect_uris=[WEB], id_token_alg="HS256")


def test_rs256_id_token_alg_is_kept(service):
    client, _ = service.create(name="P", redirect_uris=[WEB], id_token_alg="RS256")
    assert client.id_token_signed_response_alg == "RS256"


def test_pairwise_client_on_several_hosts_needs_explicit_sector(service):
    uris = [WEB, "https://other.example.ca/callback"]
    with pytest.raises(InvalidClientMetadata, match="sector"):
        service.create(name="P", redirect_uris=uris)
    client, _ = service.create(name="P", redirect_uris=uris, sector_identifier="example.ca")
    assert client.sector_identifier == "example.ca"


def test_public_subject_client_on_several_hosts_needs_no_sector(service):
    client, _ = service.create(
        name="P", redirect_uris=[WEB, "https://other.example.ca/cb"], subject_type="public"
    )
    assert client.subject_type == "public"


def test_malformed_sector_identifier_is_refused(service):
    with pytest.raises(InvalidClientMetadata, match="sector"):
        service.create(name="P", redirect_uris=[WEB], sector_identifier="https://example.ca/x")


@pytest.mark.parametrize("scope", ["profile email", "openid admin"])
def test_scope_without_openid_or_unknown_is_refused(service, scope):
    with pytest.raises(InvalidClientMetadata, match="scope"):
        service.create(name="P", redirect_uris=[WEB], scope=scope)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_blank_or_long_name_is_refused(service, name):
    with pytest.raises(InvalidClientMetadata, match="name"):
        service.create(name=name, redirect_uris=[WEB])


def test_chosen_client_id_is_kept_and_must_be_unique(service):
    client, _ = service.create(name="Demo", redirect_uris=[WEB], client_id="demo-rp")
    assert client.client_id == "demo-rp"
    with pytest.raises(InvalidClientMetadata, match="already"):
        service.create(name="Demo", redirect_uris=[WEB], client_id="demo-rp")


@pytest.mark.parametrize("client_id", ["has space", "é", "a/b", "x" * 65, ""])
def test_malformed_client_id_is_refused(service, client_id):
    with pytest.raises(InvalidClientMetadata, match="client_id"):
        service.create(name="Demo", redirect_uris=[WEB], client_id=client_id)


def test_list_get_and_delete(service):
    first, _ = service.create(name="One", redirect_uris=[WEB])
    second, _ = service.create(name="Two", redirect_uris=[WEB])
    assert [client.client_id for client in service.list()] == [first.client_id, second.client_id]
    assert service.get(second.client_id) is second
    service.delete(first.client_id)
    assert [client.client_id for client in service.list()] == [second.client_id]
    with pytest.raises(ClientNotFound):
        service.get(first.client_id)
    with pytest.raises(ClientNotFound):
        service.delete(first.client_id)


def test_rotate_secret_invalidates_the_old_one(service, clock):
    client, old_secret = service.create(name="P", redirect_uris=[WEB])
    clock.advance(60)
    new_secret = service.rotate_secret(client.client_id)
    assert new_secret != old_secret
    assert service.is_secret_valid(client, new_secret)
    assert not service.is_secret_valid(client, old_secret)
    assert client.updated_at == clock()


def test_rotate_secret_of_public_client_is_refused(service):
    client, _ = service.create(name="App", redirect_uris=[WEB], is_public=True, auth_method="none")
    with pytest.raises(InvalidClientMetadata, match="no secret"):
        service.rotate_secret(client.client_id)


def test_rotate_secret_of_unknown_client_raises(service):
    with pytest.raises(ClientNotFound):
        service.rotate_secret("nobody")


def test_service_flushes_but_never_commits(app, service):
    client, _ = service.create(name="P", redirect_uris=[WEB])
    db.session.rollback()
    assert db.session.query(Client).filter_by(client_id=client.client_id).first() is None
