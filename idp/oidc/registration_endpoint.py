"""HTTP side of dynamic client registration (RFC 7591 §3, RFC 7592 §2): parse, call
RegistrationService, commit, answer JSON. 404 while OIDC_DYNAMIC_REGISTRATION is off."""

from __future__ import annotations

import json
from typing import Any

from flask import Request, Response, abort

from idp.extensions import db
from idp.oidc.errors import ClientError, InvalidClientMetadata, SoftwareStatementNotAccepted
from idp.oidc.registration import RegistrationService, describe
from idp.oidc.server import PasserelleServer

MAX_BODY = 64 * 1024  # bytes; a registration is a few hundred
REGISTER_PATH = "/register"


def service(server: PasserelleServer) -> RegistrationService:
    context = server.context
    return RegistrationService(db.session, context.settings, context.clock, context.hasher)


def register(server: PasserelleServer, request: Request, server_metadata: dict) -> Response:
    """POST /register with an initial access token (RFC 7591 §3.1)."""
    _require_enabled(server)
    body, refusal = _json_body(request)
    if refusal:
        return refusal
    registrations = service(server)
    if not registrations.spend_initial_token(_bearer(request)):
        return _invalid_token("An unused, unexpired initial access token is required.")
    try:
        client, plain_secret, plain_token = registrations.register(body, server_metadata)
    except ClientError as error:
        db.session.rollback()  # the initial access token stays unspent
        return _metadata_error(error)
    db.session.commit()
    answer: dict[str, Any] = {**describe(client), "registration_access_token": plain_token,
                              "registration_client_uri": client_uri(server, client.client_id)}
    if plain_secret:
        answer["client_secret"] = plain_secret
    return _json(answer, 201)


def manage(server: PasserelleServer, request: Request, client_id: str, server_metadata: dict) -> Response:
    """GET, PUT, DELETE /register/<client_id> with the registration access token (RFC 7592)."""
    _require_enabled(server)
    registrations = service(server)
    client = registrations.find(client_id, _bearer(request))
    if client is None:
        # RFC 7592 §2.1: an unknown client and a wrong token look the same.
        return _invalid_token("The registration access token is invalid for this client.")
    if request.method == "DELETE":
        registrations.delete(client)
        db.session.commit()
        return Response(status=204, headers={"Cache-Control": "no-store"})
    if request.method == "PUT":
        body, refusal = _json_body(request)
        if refusal:
            return refusal
        try:
            registrations.replace(client, body, server_metadata)
        except ClientError as error:
            db.session.rollback()
            return _metadata_error(error)
        db.session.commit()
    return _json({**describe(client), "registration_client_uri": client_uri(server, client.client_id)})


def client_uri(server: PasserelleServer, client_id: str) -> str:
    return f"{server.issuer}{REGISTER_PATH}/{client_id}"


def _require_enabled(server: PasserelleServer) -> None:
    if not server.context.settings.OIDC_DYNAMIC_REGISTRATION:
        abort(404)


def _json_body(request: Request) -> tuple[Any, Response | None]:
    """The JSON object sent, read no further than MAX_BODY bytes; or a refusal."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None, _error(413, "invalid_request", f"The body may be at most {MAX_BODY} bytes.")
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return None, _error(413, "invalid_request", f"The body may be at most {MAX_BODY} bytes.")
    if request.mimetype != "application/json":
        return None, _error(400, "invalid_request", "The body must be application/json.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, _error(400, "invalid_client_metadata", "The body is not JSON.")
    if not isinstance(body, dict):
        return None, _error(400, "invalid_client_metadata", "The body must be a JSON object of client metadata.")
    return body, None


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _metadata_error(error: ClientError) -> Response:
    """RFC 7591 §3.2.2's codes; the description says which field and why."""
    if isinstance(error, SoftwareStatementNotAccepted):
        return _error(400, "unapproved_software_statement", error.message)
    message = error.message if isinstance(error, InvalidClientMetadata) else str(error)
    code = "invalid_redirect_uri" if "redirect URI" in message else "invalid_client_metadata"
    return _error(400, code, message)


def _invalid_token(description: str) -> Response:
    response = _error(401, "invalid_token", description)
    response.headers["WWW-Authenticate"] = 'Bearer realm="passerelle", error="invalid_token"'
    return response


def _error(status: int, error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, status)


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json",
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
