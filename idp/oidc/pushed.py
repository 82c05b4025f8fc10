"""Pushed authorization requests (RFC 9126): the endpoint, and /authorize's side of it.

The client POSTs its authorization parameters, authenticated exactly as at the token
endpoint; they get every check /authorize makes, and the answer is a one-time request_uri.
/authorize then takes `client_id` and `request_uri` only and uses the stored parameters.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc9101.errors import InvalidRequestUriError
from flask import Request, Response

from idp.extensions import db
from idp.oidc import endpoints
from idp.oidc.grants import TOKEN_AUTH_METHODS
from idp.oidc.pushed_requests import REQUEST_URI_PREFIX, PushedRequestService
from idp.oidc.server import PasserelleServer

__all__ = ["REQUEST_URI_PREFIX", "push", "take"]

# Client authentication travels with the request but is not part of it.
CLIENT_AUTH_PARAMS = ("client_secret", "client_assertion", "client_assertion_type")


def pushed_requests(server: PasserelleServer) -> PushedRequestService:
    return PushedRequestService(db.session, server.context.clock, server.context.hasher)


def push(server: PasserelleServer, request: Request) -> tuple[Response | None, dict | None]:
    """The pushed authorization request endpoint (RFC 9126 §2). Returns (error response,
    None) or (None, the 201 body). Errors are the token endpoint's JSON errors, never a redirect."""
    from idp.oidc import authorization  # the authorization endpoint's checks, reused whole

    problem = endpoints.form_problem(request, required=None)
    if problem:
        return json_error(server, InvalidRequestError(problem)), None
    oauth_request = server.create_oauth2_request()
    try:
        client = server.authenticate_client(oauth_request, TOKEN_AUTH_METHODS, "pushed_authorization_request")
    except OAuth2Error as error:
        return json_error(server, error), None
    params = {key: value for key, value in request.form.items() if key not in CLIENT_AUTH_PARAMS}
    params.setdefault("client_id", client.client_id)
    try:
        if "request_uri" in params:
            raise InvalidRequestError("'request_uri' is not allowed in a pushed authorization request (RFC 9126 section 2.1).")
        params, signed = authorization.unpack_request_object(server, client, params)
        authorization.check_request(server, params)
        authorization.check_request_object_policy(client, signed=signed)
    except OAuth2Error as error:
        return json_error(server, error), None
    request_uri, expires_in = pushed_requests(server).push(client.client_id, params, signed=signed)
    db.session.commit()
    return None, {"request_uri": request_uri, "expires_in": expires_in}


def take(server: PasserelleServer, client, params: dict[str, str]) -> tuple[dict[str, str], bool]:
    """Spend the request_uri of an /authorize request from `client`. Returns the pushed
    parameters and whether they came signed. Raises InvalidRequestUriError (a page: without
    the stored request, no redirect URI can be trusted)."""
    pushed = pushed_requests(server).take(client.client_id, params["request_uri"])
    # Spent for good, whatever happens next (RFC 9126 §4: one-time use).
    db.session.commit()
    if pushed is None:
        raise InvalidRequestUriError(description="The 'request_uri' is unknown, expired, already used or another client's.")
    return {key: str(value) for key, value in pushed.params.items()}, pushed.signed


def json_error(server: PasserelleServer, error: OAuth2Error) -> Response:
    """The standard JSON error (RFC 6749 §5.2): never a redirect, never the request's state."""
    error.redirect_uri = None
    error.state = None
    return server.handle_error_response(None, error)
