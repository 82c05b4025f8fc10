"""Security headers on every response and the cookie names behind them (issue 2, Security
baseline; security-checklist HDR-01..04, SES-08)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response

from idp.web import cookies


def content_security_policy(form_action_sources: Iterable[str] = ()) -> str:
    """The HTML policy; form_action_sources widen form-action beyond 'self'.

    Chromium applies the submitting page's form-action to every redirect that follows the
    POST, so a sign-in or consent page whose answer ends at a client's redirect URI must
    name that client's origin (see form_action_source).
    """
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            " ".join(("form-action 'self'", *form_action_sources)),
            "frame-ancestors 'none'",
            "base-uri 'none'",
            # Already implied by default-src; spelt out because scanners look for it (HDR-02).
            "object-src 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


def form_action_source(redirect_uri: str | None) -> str | None:
    """The CSP source matching a registered redirect URI: its origin, or for a native app's
    private-use scheme (RFC 8252 §7.1) the scheme alone. None if it cannot be expressed."""
    if not redirect_uri:
        return None
    parts = urlsplit(redirect_uri)
    scheme = parts.scheme.lower()
    if not _SCHEME.match(scheme) or any(ch in redirect_uri for ch in " ;,'\"\r\n"):
        return None
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


HSTS = "max-age=31536000; includeSubDomains"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    # No cross-origin referrer ever leaves (codes, states); same-origin keeps one because
    # Flask-WTF's CSRF check over https refuses a POST without a same-origin Referer.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def init_app(app: Flask) -> None:
    """Add the headers to every response; also give Flask's own cookie its own name."""
    cookies.init_app(app)
    is_https = urlsplit(app.config["OIDC_ISSUER"]).scheme == "https"
    every_response = [*ALWAYS.items(), *([("Strict-Transport-Security", HSTS)] if is_https else [])]
    html_responses = [
        # A view's own policy wins: the form_post page needs its own CSP (OIDC).
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        # Sign-in and account pages hold personal data and CSRF tokens (SES-08).
        ("Cache-Control", "no-store"),
    ]

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # Each header is added unless the view set it. One pass over the names already
        # there, rather than a setdefault per header: this runs on every response.
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        wanted = every_response + html_responses if response.mimetype == "text/html" else every_response
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        # Versions help attackers only (HDR-07); servers that add their own are configured apart.
        if "server" in present:
            del headers["Server"]
        return response
