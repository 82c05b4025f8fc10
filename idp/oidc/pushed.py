"""Pushed authorization requests (RFC 9126): the endpoint, and /authorize's side of it.

The client POSTs its authorization parameters, authenticated exactly as at the token
endpoint; they get every check /authorize makes, and the answer is a one-time request_uri.
/authorize then takes `client_id` and `request_uri` only and uses the stored parameters.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from flask import Request, Response

from idp.extensions import db
from idp.oidc import authorization, endpoints
from idp.oidc.grants import TOKEN_AUTH_METHODS
from idp.oidc.pushed_requests import REQUEST_URI_PREFIX, PushedRequestService
from idp.oidc.server import PasserelleServer

__all__ = ["REQUEST_URI_PREFIX", "push"]

# Client authentication travels with the request but is not part of it.
CLIENT_AUTH_PARAMS = ("client_secret", "client_assertion", "client_assertion_type")


def pushed_requests(server: PasserelleServer) -> PushedRequestService:
    return PushedRequestService(db.session, server.context.clock, server.context.hasher)


def push(server: PasserelleServer, request: Request) -> tuple[Response | None, dict | None]:
    """The pushed authorization request endpoint (RFC 9126 §2). Returns (error response,
    None) or (None, the 201 body). Errors are the token endpoint's JSON errors, never a redirect."""
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


def json_error(server: PasserelleServer, error: OAuth2Error) -> Response:
    """The standard JSON error (RFC 6749 §5.2): never a redirect, never the request's state."""
    error.redirect_uri = None
    error.state = None
    return server.handle_error_response(None, error)
