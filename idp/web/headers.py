"""Security headers on every response and the cookie names behind them (issue 2, Security
baseline; security-checklist HDR-01..04, SES-08)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from idp.web import cookies

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        # Already implied by default-src; spelt out because scanners look for it (HDR-02).
        "object-src 'none'",
    )
)
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

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in ALWAYS.items():
            response.headers.setdefault(name, value)
        if is_https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            # A view's own policy wins: the form_post page needs its own CSP (OIDC).
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            # Sign-in and account pages hold personal data and CSRF tokens (SES-08).
            response.headers.setdefault("Cache-Control", "no-store")
        # Versions help attackers only (HDR-07); servers that add their own are configured apart.
        response.headers.pop("Server", None)
        return response
