"""The Flask end of back-channel logout for a portal with server-side sessions: each
portal's auth blueprint routes POST /backchannel-logout here (portal_kit.backchannel does
the checks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, jsonify, request

from clients.portal_kit.backchannel import receive


def exempt_from_csrf(blueprint: Blueprint, endpoint: str) -> None:
    """Passerelle POSTs logout tokens server to server: no browser, so no CSRF token (the
    token's signature is the proof). endpoint: "module.function" of the view."""
    blueprint.record_once(lambda state: state.app.extensions["csrf"].exempt(endpoint))


def backchannel_logout_response(*, issuer: str, client_id: str, signin_client, clock: Callable[[], datetime],
                                session, seen_model: type, session_model: type) -> Response:
    """Verify the logout token of this request, end the portal sessions it names, commit,
    and answer 200 {}, 400 or 503 with an error JSON, never cached."""
    body, status = receive(
        request.form, issuer=issuer, client_id=client_id,
        jwks=lambda force: signin_client.fetch_jwk_set(force=force), now=clock(),
        session=session, seen_model=seen_model, session_model=session_model)
    session.commit()
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
