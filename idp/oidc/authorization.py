"""The authorization endpoint's decisions: validate, then sign in, ask consent, or issue a code.

Flask-aware glue between Authlib's validation, the sign-in transaction (idp.signin.current)
and TokenService. Every error after the redirect URI is validated goes back to the client;
before that, the person sees a page (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc9101.errors import InvalidRequestUriError
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask import Response, current_app
from flask_babel import gettext as _
from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy import select

from idp.extensions import db
from idp.i18n import first_supported
from idp.logout.services import LogoutService
from idp.oidc import claims as oidc_claims
from idp.oidc import request_objects
from idp.oidc.models import Consent
from idp.oidc.pushed_requests import REQUEST_URI_PREFIX, PushedRequestService
from idp.oidc.responses import RESPONSE_MODES, authorization_response, error_page, error_response
from idp.oidc.server import PasserelleServer
from idp.oidc.token_queries import GrantContext
from idp.security.secrets import new_token
from idp.signin import current as signin
from idp.signin.assurance import ACR_ORDER, satisfies
from idp.signin.flow import STEP_UP_UNAVAILABLE

PROMPT_VALUES = {"none", "login", "consent", "select_account"}
CONSENT_STEP = "consent"  # the sign-in transaction's steps_done key for a given consent
MAX_PARAMETER_LENGTH = 4096
PARAMETER_NAME = re.compile(r"[a-z_]{1,40}")  # echoed in an error only when it looks like one


def oidc_server() -> PasserelleServer:
    return current_app.extensions["oidc_server"]


@dataclass(frozen=True)
class AuthorizationOptions:
    """The OIDC parameters that steer sign-in, parsed and checked."""

    prompts: frozenset[str]
    max_age: int | None
    claims: dict | None
    hint_subject: str | None
    # The assurance level the sign-in must reach (acr_values, the claims parameter, the
    # client's minimum), or None.
    required_acr: str | None = None


class UnmetAuthenticationRequirements(OAuth2Error):
    """OpenID Connect Unmet Authentication Requirements 1.0: the person has no method that
    reaches the level the client requires."""

    error = "unmet_authentication_requirements"


def required_acr(client, claims: dict | None, acr_values: str | None) -> str | None:
    """The level a sign-in for this request must reach. Of the requested values Passerelle
    knows, the lowest (the client accepts any of them, OIDC Core §3.1.2.1); then the client's
    minimum if it is higher. Unknown values are ignored (and the ID token says what was
    reached)."""
    requested = [value for value in oidc_claims.requested_acr_values(claims, acr_values) if value in ACR_ORDER]
    level = min(requested, key=ACR_ORDER.index) if requested else None
    if client.min_acr in ACR_ORDER and (level is None or not satisfies(level, client.min_acr)):
        level = client.min_acr
    return level


def start(oauth_request, params: dict[str, str]) -> Response:
    """Handle a new authorization request (GET or POST, OIDC Core §3.1.2.1)."""
    server = oidc_server()
    try:
        params, oauth_request = resolve(server, oauth_request, params)
    except OAuth2Error as error:
        return error_response(error, params.get("state"), params.get("response_mode") or "query", server.issuer)
    mode = params.get("response_mode") or "query"
    try:
        grant = validate(server, oauth_request, params)
        options = parse_options(server, grant, params)
        session = signin.current_session()
        user = server.active_user(session.user_id) if session else None
        if user is None:
            session = None
        needs_login = session is None or _login_is_stale(server, grant, session, options, user)
        needs_consent = _needs_consent(grant, session if not needs_login else None, options)
        needs_step_up = not needs_login and (
            not satisfies(session.acr, options.required_acr) or _needs_two_factor_setup(server, user)
        )
        if "none" in options.prompts:
            if needs_login:
                raise LoginRequiredError(redirect_uri=grant.redirect_uri)
            if needs_step_up:
                raise InteractionRequiredError(redirect_uri=grant.redirect_uri)
            if needs_consent:
                raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
        if needs_login or needs_consent or needs_step_up:
            return _begin(grant, params, options, session, needs_login=needs_login, needs_consent=needs_consent)
        return issue_code(server, grant, session, params, options)
    except OAuth2Error as error:
        return error_response(error, params.get("state"), mode, server.issuer)


def resume() -> Response:
    """Finish an authorization request once its sign-in transaction is done."""
    server = oidc_server()
    txn = signin.finished_transaction()
    if txn is None or not txn.authorization_request or not signin.consume_transaction(txn):
        db.session.commit()
        return error_page("expired", _("This sign-in has expired or was already used. Return to the service and start again."))
    db.session.commit()
    params = dict(txn.authorization_request)
    mode = params.get("response_mode") or "query"
    try:
        grant = validate(server, server.stored_request(params), params)
        if STEP_UP_UNAVAILABLE in (txn.steps_done or {}):
            raise UnmetAuthenticationRequirements(redirect_uri=grant.redirect_uri)
        if signin.is_denied(txn):
            raise AccessDeniedError(redirect_uri=grant.redirect_uri)
        options = parse_options(server, grant, params)
        session = signin.current_session()
        if session is None or session.user_id != txn.user_id:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        if not satisfies(session.acr, options.required_acr):
            raise UnmetAuthenticationRequirements(redirect_uri=grant.redirect_uri)
        # prompt=login and max_age demand an authentication made during this transaction.
        if ("login" in options.prompts or options.max_age is not None) and session.auth_time < txn.created_at:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        if CONSENT_STEP not in (txn.steps_done or {}) and _needs_consent(grant, session, options):
            db.session.commit()
            return _begin(grant, params, options, session, needs_login=False, needs_consent=True)
        return issue_code(server, grant, session, params, options)
    except OAuth2Error as error:
        return error_response(error, params.get("state"), mode, server.issuer)


def resolve(server: PasserelleServer, oauth_request, params: dict[str, str]):
    """The parameters /authorize acts on, and their request: those pushed earlier (PAR, RFC
    9126 §4), those of a request object (JAR, RFC 9101 §5), or those sent. Enforces the
    client's require_pushed_authorization_requests and signed-request-object policy.
    Raises OAuth2Error; errors go to the redirect URI only when the one sent alongside is
    registered for the client."""
    client = server.clients.get(db.session, params.get("client_id"))
    if client is None or any(len(values) > 1 for values in oauth_request.payload.datalist.values()):
        return params, oauth_request  # validate() refuses it with its usual page
    sent_uri = params.get("redirect_uri")
    outer = sent_uri if sent_uri and client.check_redirect_uri(sent_uri) else None
    if "request_uri" in params:
        if "request" in params:
            raise InvalidRequestError("The 'request' and 'request_uri' parameters are mutually exclusive.", redirect_uri=outer)
        if not params["request_uri"].startswith(REQUEST_URI_PREFIX):
            # Passerelle fetches nothing a client points at (RFC 9101 §5.2): only PAR's URNs.
            raise RequestURINotSupportedError(redirect_uri=outer)
        resolved, signed = take_pushed(server, client, params)
    else:
        if client.require_pushed_authorization_requests:
            raise InvalidRequestError(
                "This client must push its authorization requests: send the 'request_uri' the pushed "
                "authorization request endpoint returned (RFC 9126 section 6).", redirect_uri=outer)
        resolved, signed = unpack_request_object(server, client, params, redirect_uri=outer)
    check_request_object_policy(client, signed=signed, redirect_uri=outer)
    return (params, oauth_request) if resolved is params else (resolved, server.stored_request(resolved))


def unpack_request_object(server: PasserelleServer, client, params: dict[str, str], redirect_uri: str | None = None):
    """The parameters of the request object in `request` (RFC 9101 §5.1: they replace those
    sent beside it) and whether it was signed; or params unchanged and False when there is
    none. Errors go to redirect_uri (the registered one sent beside it), else a page."""
    if "request" not in params:
        return params, False
    try:
        return request_objects.unpack(server, client, server.stored_request(params))
    except OAuth2Error as error:
        error.redirect_uri = redirect_uri
        raise


def check_request_object_policy(client, *, signed: bool, redirect_uri: str | None = None) -> None:
    """Clients registered to sign their requests may send no other kind (RFC 9101 §10.5)."""
    if client.require_signed_request_object and not signed:
        raise InvalidRequestError("This client must send its authorization requests in signed request objects "
                                  "(RFC 9101).", redirect_uri=redirect_uri)


def check_request(server: PasserelleServer, params: dict[str, str]) -> None:
    """Every check /authorize makes on these parameters, without acting on them (PAR)."""
    grant = validate(server, server.stored_request(params), params)
    parse_options(server, grant, params)


def _begin(grant, params: dict[str, str], options: AuthorizationOptions, session, *, needs_login: bool, needs_consent: bool) -> Response:
    """Hand over to the sign-in transaction; it comes back through resume()."""
    return signin.begin_signin(
        # The scope the client may have, not the one it asked for: the consent page lists it
        # and the consent records it, so both say what will actually be released.
        authorization_request={**params, "scope": grant.request.scope},
        client_id=grant.client.client_id,
        return_to=None,
        prompt=params.get("prompt"),
        max_age=options.max_age,
        login_hint=params.get("login_hint"),
        requested_acr=options.required_acr,
        ui_locale=first_supported(params.get("ui_locales")),
        session=None if needs_login else session,
        force_login=needs_login,
        needs_consent=needs_consent,
    )


def validate(server: PasserelleServer, oauth_request, params: dict[str, str]):
    """Authlib's checks (client, exact redirect URI, response type, scope, PKCE, nonce),
    preceded by the ones OIDC adds. Returns the validated grant."""
    if any(len(value) > MAX_PARAMETER_LENGTH for value in params.values()):
        raise InvalidRequestError("A parameter is too long.")
    repeated = [name for name, values in oauth_request.payload.datalist.items() if len(values) > 1]
    if repeated:
        # RFC 6749 §3.1: no parameter twice, whichever (Authlib checks only five); the query
        # and a POST body count together. Before the redirect URI is trusted: a page.
        name = repeated[0] if PARAMETER_NAME.fullmatch(repeated[0]) else "?"
        raise InvalidRequestError(f"Multiple '{name}' in request.")  # Authlib's wording (idp.oidc.error_messages)
    if not params.get("redirect_uri"):
        # OIDC Core §3.1.2.1: required; never fall back to a registered URI.
        raise InvalidRequestError("Missing 'redirect_uri'.")
    try:
        grant = server.get_consent_grant(oauth_request, end_user=None)
    except ValueError:
        # Authlib echoes some values (response_type) into error_description, which must be
        # printable ASCII (RFC 6749 §4.1.2.1): garbage there gets a page, not a 500.
        raise InvalidRequestError("A parameter contains characters that are not allowed.") from None
    if params.get("response_mode", "query") not in RESPONSE_MODES:
        raise InvalidRequestError("Unsupported 'response_mode'.", redirect_uri=grant.redirect_uri)
    if "request" in params:
        raise RequestNotSupportedError(redirect_uri=grant.redirect_uri)
    if "request_uri" in params:
        raise RequestURINotSupportedError(redirect_uri=grant.redirect_uri)
    return grant


def parse_options(server: PasserelleServer, grant, params: dict[str, str]) -> AuthorizationOptions:
    redirect_uri = grant.redirect_uri
    prompts = frozenset((params.get("prompt") or "").split())
    if not prompts <= PROMPT_VALUES or ("none" in prompts and len(prompts) > 1):
        raise InvalidRequestError("Invalid 'prompt'.", redirect_uri=redirect_uri)
    max_age = None
    if params.get("max_age") is not None:
        raw = params["max_age"]
        if not raw.isdigit() or len(raw) > 10:
            raise InvalidRequestError("Invalid 'max_age'.", redirect_uri=redirect_uri)
        max_age = int(raw)
    try:
        requested_claims = oidc_claims.parse_claims_parameter(params.get("claims"))
    except oidc_claims.InvalidClaimsParameter as error:
        raise InvalidRequestError(f"Invalid 'claims': {error}.", redirect_uri=redirect_uri) from None
    hint_subject = None
    if params.get("id_token_hint"):
        hint_subject = _hint_subject(server, params["id_token_hint"], grant.client.client_id)
        if hint_subject is None:
            raise InvalidRequestError("Invalid 'id_token_hint'.", redirect_uri=redirect_uri)
    return AuthorizationOptions(
        prompts, max_age, oidc_claims.claims_within_scope(requested_claims, grant.request.scope), hint_subject,
        required_acr(grant.client, requested_claims, params.get("acr_values")),
    )


def issue_code(server: PasserelleServer, grant, session, params: dict[str, str], options: AuthorizationOptions) -> Response:
    context = GrantContext(
        grant_id=new_token(16),
        client_id=grant.client.client_id,
        user_id=session.user_id,
        session_id=session.id,
        scope=grant.request.scope,
        auth_time=session.auth_time,
        acr=session.acr,
        amr=list(session.amr or []),
        sid=session.sid,
        requested_claims=options.claims,
    )
    code = server.tokens().create_code(
        context,
        redirect_uri=grant.redirect_uri,
        nonce=params.get("nonce"),
        code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method"),
    )
    # Single sign-out: this client is told when the session ends (idp.logout).
    LogoutService(db.session, server.context.settings, server.context.clock).remember_client(
        session.id, grant.client.client_id, session.sid)
    db.session.commit()
    mode = params.get("response_mode") or "query"
    return authorization_response(grant.redirect_uri, [("code", code), ("state", params.get("state"))], mode, server.issuer)


def _needs_two_factor_setup(server: PasserelleServer, user) -> bool:
    """MFA_REQUIRED and this password account has no method yet (its session began at
    registration): the sign-in's set-up step comes before any client gets a code."""
    return (
        bool(server.context.settings.MFA_REQUIRED)
        and user is not None and user.password_hash is not None and user.mfa_enrolled_at is None
    )


def _login_is_stale(server: PasserelleServer, grant, session, options: AuthorizationOptions, user) -> bool:
    """prompt=login, an exceeded max_age or a hint naming someone else need a fresh sign-in."""
    if "login" in options.prompts:
        return True
    if options.max_age is not None and server.context.clock() - session.auth_time > timedelta(seconds=options.max_age):
        return True
    return options.hint_subject is not None and options.hint_subject != server.subject(grant.client, user)


def _needs_consent(grant, session, options: AuthorizationOptions) -> bool:
    """Consent is asked when the client requires it and none covers this scope, or when
    the client asks for it with prompt=consent."""
    if "consent" in options.prompts:
        return True
    if not grant.client.require_consent or session is None:
        # Without a known person, resume() decides once sign-in has identified them.
        return False
    consent = db.session.scalars(
        select(Consent).where(Consent.user_id == session.user_id, Consent.client_id == grant.client.client_id)
    ).one_or_none()
    return consent is None or not set(grant.request.scope.split()) <= set(consent.scope.split())


def _hint_subject(server: PasserelleServer, hint: str, client_id: str) -> str | None:
    """The `sub` of an ID token we issued to this client; expired hints are still accepted
    (OIDC Core §3.1.2.1). None when the token is not ours or not for this client."""
    claims = verified_id_token_claims(server, hint)
    if claims is None:
        return None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return claims.get("sub") if client_id in audiences else None


def verified_id_token_claims(server: PasserelleServer, token: str) -> dict | None:
    """Claims of an ID token signed by one of our published keys and issued by us."""
    if not isinstance(token, str) or len(token) > 8192 or token.count(".") != 2:
        return None
    try:
        protected = jws.extract_compact(token.encode()).protected
        key = server.active_keys().published.get(protected.get("kid"))
        alg = protected.get("alg")
        if key is None or alg not in ("ES256", "RS256"):
            return None
        claims = jwt.decode(token, key, algorithms=[alg]).claims
    except (JoseError, ValueError, TypeError):
        return None
    return claims if claims.get("iss") == server.issuer else None


def take_pushed(server: PasserelleServer, client, params: dict[str, str]) -> tuple[dict[str, str], bool]:
    """Spend the request_uri of an /authorize request from `client` (PAR, RFC 9126). Returns
    the pushed parameters and whether they came signed. Raises InvalidRequestUriError (a
    page: without the stored request, no redirect URI can be trusted)."""
    service = PushedRequestService(db.session, server.context.clock, server.context.hasher)
    pushed = service.take(client.client_id, params["request_uri"])
    # Spent for good, whatever happens next (RFC 9126 §4: one-time use).
    db.session.commit()
    if pushed is None:
        raise InvalidRequestUriError(description="The 'request_uri' is unknown, expired, already used or another client's.")
    return {key: str(value) for key, value in pushed.params.items()}, pushed.signed
