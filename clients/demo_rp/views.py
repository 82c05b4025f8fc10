"""The demo relying party's pages: sign in, callback, claims, refresh, sign out, language,
and the back-channel logout endpoint Passerelle POSTs to."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import get_locale
from joserfc.errors import JoseError
from requests import RequestException

from clients.portal_kit.backchannel import KeysUnavailable, LogoutTokenError, verify_logout_token

bp = Blueprint("demo_rp", __name__)
LOCALES = ("fr", "en")
TOKEN_KEYS = ("access_token", "refresh_token", "id_token", "expires_at", "scope", "token_type")


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]


def security_headers(response):
    """The same baseline the IdP sends: no framing, no inline script, nothing cached."""
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' " + _issuer_origin())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _issuer_origin() -> str:
    issuer = current_app.config["DEMO_RP_ISSUER"]
    scheme, rest = issuer.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _client():
    return current_app.extensions["authlib.integrations.flask_client"].passerelle


def _page(template: str, status: int = 200, **context: Any):
    locale = str(get_locale())
    other = "en" if locale == "fr" else "fr"
    return render_template(f"clients/demo_rp/{template}", locale=locale, other_locale=other, **context), status


def _error(message: str, status: int = 400):
    return _page("error.html", status, message=message)


@bp.get("/")
def home():
    if request.args.get("state"):
        # Back from the IdP's end_session_endpoint: the state must be the one we sent.
        try:
            _client().validate_logout_response()
        except OAuthError:
            return _error(_("The sign-out response did not match a sign-out we started."))
        flash(_("You are signed out of Passerelle and of this application."))
    return _page("home.html", signed_in="tokens" in session)


@bp.post("/login")
def login():
    return _client().authorize_redirect(
        current_app.config["DEMO_RP_REDIRECT_URI"], ui_locales=str(get_locale())
    )


@bp.get("/callback")
def callback():
    client = _client()
    try:
        metadata = client.load_server_metadata()
        # Mix-up defence (RFC 9207): the response must come from the issuer we sent people to.
        if metadata.get("authorization_response_iss_parameter_supported") and request.args.get("iss") != metadata["issuer"]:
            return _error(_("The sign-in response did not come from the expected provider."))
        token = client.authorize_access_token()
        if "userinfo" not in token:
            return _error(_("The provider did not return a valid ID token."), 502)
        userinfo = client.userinfo(token=token)
    except OAuthError as error:
        return _error(_("Sign-in did not complete: %(reason)s", reason=error.description or error.error))
    except (JoseError, ValueError, RequestException) as error:
        current_app.logger.warning("callback failed: %r", error)
        return _error(_("The provider's response could not be verified."), 502)
    session.clear()
    session["tokens"] = {key: token[key] for key in TOKEN_KEYS if key in token}
    session["claims"] = dict(token["userinfo"])
    session["userinfo"] = dict(userinfo)
    return redirect(url_for("demo_rp.claims"))


@bp.get("/claims")
def claims():
    if "tokens" not in session:
        return redirect(url_for("demo_rp.home"))
    tokens = session["tokens"]
    return _page(
        "claims.html",
        claims=session["claims"],
        userinfo=session["userinfo"],
        scope=tokens.get("scope", ""),
        expires_in=max(0, int(tokens.get("expires_at", 0) - time.time())),
        has_refresh_token=bool(tokens.get("refresh_token")),
    )


@bp.post("/refresh")
def refresh():
    tokens = session.get("tokens") or {}
    if not tokens.get("refresh_token"):
        flash(_("There is no refresh token: sign in again."))
        return redirect(url_for("demo_rp.home"))
    client = _client()
    try:
        fresh = client.fetch_access_token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        if "id_token" in fresh:
            # A new ID token must be valid and about the same person (OIDC Core §12.2).
            claims = client.parse_id_token(fresh, nonce=None)
            if claims["sub"] != session["claims"]["sub"] or claims["iss"] != session["claims"]["iss"]:
                raise ValueError("refreshed ID token is about someone else")
    except (OAuthError, RequestException, JoseError, ValueError) as error:
        current_app.logger.warning("refresh failed: %r", error)
        session.pop("tokens", None)
        return _error(_("The provider refused to refresh the tokens: sign in again."))
    # Refresh tokens rotate: keep the new one, never the old (RFC 9700 §4.14.2).
    session["tokens"] = {**tokens, **{key: fresh[key] for key in TOKEN_KEYS if key in fresh}}
    flash(_("New tokens received."))
    return redirect(url_for("demo_rp.claims"))


@bp.post("/logout")
def logout():
    tokens = session.pop("tokens", None) or {}
    session.pop("claims", None)
    session.pop("userinfo", None)
    client = _client()
    _revoke(client, tokens.get("refresh_token"))
    return client.logout_redirect(
        post_logout_redirect_uri=current_app.config["DEMO_RP_POST_LOGOUT_REDIRECT_URI"],
        id_token_hint=tokens.get("id_token"),
        ui_locales=str(get_locale()),
    )


def _revoke(client, refresh_token: str | None) -> None:
    """Revoke the refresh token (RFC 7009) so signing out here ends the grant too; best effort."""
    endpoint = client.load_server_metadata().get("revocation_endpoint")
    if not (endpoint and refresh_token):
        return
    try:
        with client._get_oauth_client() as oauth_client:
            oauth_client.revoke_token(endpoint, token=refresh_token, token_type_hint="refresh_token")
    except (OAuthError, RequestException) as error:
        current_app.logger.warning("revocation failed: %r", error)


@bp.get("/lang/<code>")
def language(code: str):
    if code in LOCALES:
        session["lang"] = code
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    return redirect(target)


@bp.post("/backchannel-logout")
def backchannel_logout():
    """Back-Channel Logout 1.0 (issue 14): a verified logout token from Passerelle ends the
    sign-in it names here; 400 with an error JSON for anything else (a replayed jti too)."""
    now = datetime.now(UTC)
    try:
        claims = verify_logout_token(
            request.form.get("logout_token"), issuer=current_app.config["DEMO_RP_ISSUER"],
            client_id=current_app.config["DEMO_RP_CLIENT_ID"],
            jwks=lambda force: _client().fetch_jwk_set(force=force), now=now)
    except KeysUnavailable as error:
        return _json_answer({"error": "temporarily_unavailable", "error_description": str(error)}, 503)
    except LogoutTokenError as error:
        return _json_answer({"error": "invalid_request", "error_description": str(error)}, 400)
    if not current_app.extensions["demo_rp_ended_sessions"].remember(claims, now):
        return _json_answer({"error": "invalid_request", "error_description": "this logout token was already used"}, 400)
    return _json_answer({}, 200)


def _json_answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def forget_ended_sign_in() -> None:
    """Before each request: a sign-in Passerelle ended (back-channel logout) is forgotten."""
    claims = session.get("claims")
    if claims and current_app.extensions["demo_rp_ended_sessions"].has_ended(claims):
        session.clear()
