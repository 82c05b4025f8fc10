"""Authorization responses: redirect (query) or auto-submitted form (form_post), both with
`iss` (RFC 9207), and the error page shown when the client cannot be trusted."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Response, redirect, render_template

from idp.oidc.error_messages import explain
from idp.web.headers import leave_site_policy

RESPONSE_MODES = ("query", "form_post")


def authorization_response(redirect_uri: str, params: list[tuple[str, str | None]], response_mode: str, issuer: str) -> Response:
    """Deliver params to the client's (already validated) redirect URI."""
    values = [(key, value) for key, value in params if value is not None] + [("iss", issuer)]
    if response_mode == "form_post":
        return form_post(redirect_uri, values)
    return redirect(add_params_to_uri(redirect_uri, values), 303)


def form_post(redirect_uri: str, values: list[tuple[str, str]]) -> Response:
    """OAuth 2.0 Form Post Response Mode: an HTML form the browser POSTs to the client."""
    response = Response(render_template("oidc/form_post.html", action=redirect_uri, values=values))
    # The client's redirect URI may redirect on (to another of its hosts): form-action would
    # stop that chain in Chromium, so this page has none (idp.web.headers).
    response.headers["Cache-Control"] = "no-store"
    return leave_site_policy(response)


def error_response(error: OAuth2Error, state: str | None, response_mode: str, issuer: str) -> Response:
    """Send the error to the client when its redirect URI was validated, else show a page."""
    if error.redirect_uri:
        params = [("error", error.error), ("error_description", error.description or None), ("state", state)]
        mode = response_mode if response_mode in RESPONSE_MODES else "query"
        return authorization_response(error.redirect_uri, params, mode, issuer)
    # Authlib's description is English for developers: the person reads our own words.
    return error_page(error.error, explain(error.error, error.description))


def error_page(error: str, description: str | None, status: int = 400) -> Response:
    """A page for the person: never a redirect to an unverified client (RFC 6749 §4.1.2.1)."""
    return Response(render_template("oidc/error.html", error=error, description=description), status=status)
