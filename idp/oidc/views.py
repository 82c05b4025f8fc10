"""OIDC endpoints. Each view parses, calls one collaborator, commits, responds."""

from __future__ import annotations

import json

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error
from flask import Blueprint, Flask, Response, current_app, request

from idp.extensions import csrf, db
from idp.oidc import authorization, endpoints, logout, pushed, registration_endpoint, token_endpoint
from idp.oidc.before_flask import machine_gate
from idp.oidc.discovery import provider_metadata
from idp.oidc.grants import TOKEN_AUTH_METHODS
from idp.oidc.keys import entity_tag
from idp.oidc.resource_server import ResourceServer
from idp.oidc.server import PasserelleServer
from idp.oidc.token_server import TokenServer
from idp.signin.current import forget_signin
from idp.web import client_auth_limit, machine
from idp.web import headers as security_headers

bp = Blueprint("oidc", __name__)


def init_app(app: Flask) -> None:
    server = PasserelleServer(app, app.extensions["idp"])
    app.extensions["oidc_server"] = server
    metadata = provider_metadata(server.issuer)
    if server.context.settings.OIDC_DYNAMIC_REGISTRATION:
        metadata["registration_endpoint"] = server.issuer + registration_endpoint.REGISTER_PATH
    app.extensions["oidc_metadata"] = json.dumps(metadata).encode()
    discovery_document = machine.Document(app.extensions["oidc_metadata"], entity_tag(app.extensions["oidc_metadata"]),
                                          DISCOVERY_CACHE)
    app.extensions["oidc_discovery_document"] = discovery_document
    app.register_blueprint(bp)
    for view in (authorize, token, userinfo, revoke, introspect, end_session, pushed_authorization_request,
                 register_client, registered_client):
        csrf.exempt(view)
    machine.init_app(app)
    lean_jwks = LeanJwks(app, server)
    every_response = security_headers.every_response_headers(server.issuer)
    gate = app.extensions["machine_gate"] = machine_gate(app.config["MACHINE_REQUESTS_AT_ONCE"],
                                                         app.config["SQLALCHEMY_DATABASE_URI"],
                                                         app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    app.wsgi_app = TokenServer(app.wsgi_app, app, server, every_response, gate)  # type: ignore[method-assign]
    app.wsgi_app = ResourceServer(app.wsgi_app, app, server, every_response, gate)  # type: ignore[method-assign]
    app.wsgi_app = machine.DocumentServer(app.wsgi_app, {  # type: ignore[method-assign]
        "/.well-known/openid-configuration": ("oidc.discovery", lambda: discovery_document),
        "/.well-known/oauth-authorization-server": ("oidc.discovery", lambda: discovery_document),
        "/jwks": ("oidc.jwks", lean_jwks),
    }, every_response)


def json_response(body: bytes | str, status: int = 200, cache: str = "no-store") -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = cache
    if cache == "no-store":
        response.headers["Pragma"] = "no-cache"
    return response


DISCOVERY_CACHE = "public, max-age=300"
JWKS_CACHE = "public, max-age=60"


# Usually answered by machine.DocumentServer before Flask: these views answer the requests it
# leaves to Flask (a query string, a failed key reload), with the same bytes and headers.
@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery():
    return document_response(current_app.extensions["oidc_discovery_document"])


@bp.get("/jwks")
def jwks():
    return document_response(jwks_document(authorization.oidc_server().active_keys()))


def jwks_document(active) -> machine.Document:
    return machine.Document(active.jwks_body, active.jwks_etag, JWKS_CACHE)


class LeanJwks:
    """The JWKS document for machine.DocumentServer: the worker's keys while fresh, else read
    again from the database (the only source of truth: a rotation on any host reaches every
    worker within OIDC_KEY_CACHE_TTL). None when that read fails: Flask then answers, and
    its error handlers say why."""

    def __init__(self, app: Flask, server: PasserelleServer):
        self.app = app
        self.server = server
        self._last: tuple[object, machine.Document] | None = None

    def __call__(self) -> machine.Document | None:
        active = self.server.key_ring.fresh()
        if active is None:
            try:
                with self.app.app_context():
                    active = self.server.active_keys()
            except Exception:  # noqa: BLE001 - Flask's view tries again and answers the error
                return None
        last = self._last
        if last is not None and last[0] is active:
            return last[1]
        document = jwks_document(active)
        self._last = (active, document)
        return document


def document_response(document: machine.Document) -> Response:
    status = 304 if machine.etag_matches(request.headers.get("If-None-Match"), document.etag) else 200
    response = json_response(document.body if status == 200 else b"", status=status, cache=document.cache_control)
    response.headers["ETag"] = document.etag
    return response


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    server = authorization.oidc_server()
    return authorization.start(server.create_oauth2_request(), request.values.to_dict())


@bp.get("/authorize/resume")
def resume():
    # Whatever the outcome, this browser's sign-in is over: its cookie goes (issue 9).
    return forget_signin(authorization.resume())


@bp.post("/token")
def token():
    server = authorization.oidc_server()
    problem = endpoints.form_problem(request, required="grant_type")
    if problem:
        return problem_response(server, problem)
    refusal = client_auth_limit.refusal()  # this address failed client authentication too often
    if refusal:
        return refusal
    # Any key reload happens now, not inside the write transaction the grant opens.
    server.active_keys()
    # The usual successful requests take the lean path; anything else, Authlib's grants.
    answer = token_endpoint.lean_token_answer(server, request.environ, request.form, db.session)
    response = server.handle_response(*answer) if answer else server.create_token_response()
    client_auth_limit.count_if_refused(response)
    # Also on errors: a reused code or refresh token revokes its grant, and that must stick.
    db.session.commit()
    if "DPoP" in request.headers and "DPoP-Nonce" not in response.headers:
        # The nonce for the next proof, for clients that must send one (RFC 9449 §8.2).
        response.headers["DPoP-Nonce"] = server.dpop().nonce()
    return response


@bp.post("/par")
def pushed_authorization_request():
    refusal, body = pushed.push(authorization.oidc_server(), request)
    return refusal or json_response(json.dumps(body), status=201)


@bp.post(registration_endpoint.REGISTER_PATH)
def register_client():
    return registration_endpoint.register(authorization.oidc_server(), request, provider_metadata_dict())


@bp.route(registration_endpoint.REGISTER_PATH + "/<client_id>", methods=["GET", "PUT", "DELETE"])
def registered_client(client_id: str):
    return registration_endpoint.manage(authorization.oidc_server(), request, client_id, provider_metadata_dict())


def provider_metadata_dict() -> dict:
    return json.loads(current_app.extensions["oidc_metadata"])


# UserInfo, introspection and revocation: their usual successes are answered before Flask
# (idp.oidc.resource_server); these views answer everything else, errors included.
@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    status, body, headers = endpoints.userinfo(authorization.oidc_server(), request)
    if "DPoP" in request.headers:
        db.session.commit()  # the proof's jti, spent (RFC 9449 §11.1)
    response = json_response(json.dumps(body), status=status)
    response.headers.update(headers)
    return response


@bp.post("/revoke")
def revoke():
    server = authorization.oidc_server()
    client, refusal = authenticated_client(server, TOKEN_AUTH_METHODS, "revocation")
    if refusal:
        return refusal
    server.tokens().revoke(request.form["token"], client.client_id, request.form.get("token_type_hint"))
    db.session.commit()
    return json_response(b"{}")


@bp.post("/introspect")
def introspect():
    server = authorization.oidc_server()
    methods = [method for method in TOKEN_AUTH_METHODS if method != "none"]
    client, refusal = authenticated_client(server, methods, "introspection")
    if refusal:
        return refusal
    body = endpoints.introspection(server, client, request.form["token"])
    db.session.commit()
    return json_response(json.dumps(body))


@bp.route("/logout", methods=["GET", "POST"])
def end_session():
    return logout.end_session(request.values.to_dict())


@bp.post("/logout/confirm")
def confirm_logout():
    return logout.confirm()


def authenticated_client(server: PasserelleServer, methods: list[str], endpoint: str):
    """(client, None) for a well-formed request with a token from an authenticated client,
    else (None, the OAuth error response) (RFC 7009 §2.1, RFC 7662 §2.1)."""
    problem = endpoints.form_problem(request, required="token")
    if problem:
        return None, problem_response(server, problem)
    refusal = client_auth_limit.refusal()
    if refusal:
        return None, refusal
    try:
        return server.authenticate_client(server.create_oauth2_request(), methods, endpoint), None
    except OAuth2Error as error:
        if isinstance(error, InvalidClientError):
            client_auth_limit.count_failure()
        return None, server.handle_error_response(None, error)


def problem_response(server: PasserelleServer, problem: str) -> Response:
    error = InvalidClientError(description=problem) if problem.startswith("client") else InvalidRequestError(problem)
    return server.handle_error_response(None, error)

