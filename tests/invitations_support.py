"""Helpers for the invitations tests: an API client with a real client_credentials token."""

from __future__ import annotations

from tests.oidc_support import RegisteredClient, basic_auth, make_client


def make_api_client(app, scope: str = "openid invitations", **options) -> RegisteredClient:
    """A confidential client allowed client_credentials (and, by default, the invitations scope)."""
    options.setdefault("name", "École Imaginaire")
    return make_client(
        app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(), scope=scope, **options
    )


def access_token(client, rp: RegisteredClient, scope: str | None = "invitations") -> str:
    """An access token from /token (client_credentials), as a relying party gets one."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = client.post("/token", data=data, headers=basic_auth(rp))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
