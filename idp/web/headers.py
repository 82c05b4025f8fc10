"""Security headers on every response and the cookie names behind them (issue 2, Security
baseline; security-checklist HDR-01..04, SES-08)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from idp.web import cookies


def content_security_policy(*, form_may_leave_site: bool = False, frame_origins: tuple[str, ...] = ()) -> str:
    """The HTML policy: form-action 'self', or none at all on a page whose form may leave.

    Chromium applies the submitting page's form-action to every redirect that follows the
    POST. A form that ends an authorization starts a chain no list of origins can bound:
    Passerelle's answer goes to the client's redirect URI, which may redirect on, and a
    partner's last page goes through Passerelle's callback to any client (issue 9 #13). So
    such a page has no form-action, as Keycloak's login pages (see leave_site_policy()).

    frame_origins: the only origins this page may load in iframes (the signed-out page's
    front-channel logout iframes, issue 14); every other page frames nothing.
    """
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            *((f"frame-src {' '.join(frame_origins)}",) if frame_origins else ()),
            *(() if form_may_leave_site else ("form-action 'self'",)),
            "frame-ancestors 'none'",
            "base-uri 'none'",
            # Already implied by default-src; spelt out because scanners look for it (HDR-02).
            "object-src 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
FORM_MAY_LEAVE_SITE_POLICY = content_security_policy(form_may_leave_site=True)


def leave_site_policy(response: Response) -> Response:
    """Give this page the policy of a page whose form may end an authorization or otherwise
    lead off this site (a client, a sign-in partner): every other page keeps form-action
    'self'. Scripts, styles, framing and the base stay as strict as everywhere."""
    response.headers["Content-Security-Policy"] = FORM_MAY_LEAVE_SITE_POLICY
    return response


def is_off_site(url: str | None) -> bool:
    """Whether a destination is another site's (an absolute URL, or a native app's scheme),
    rather than one of our own paths."""
    parts = urlsplit(url or "")
    return bool(parts.scheme or parts.netloc)


HSTS = "max-age=31536000; includeSubDomains"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    # No cross-origin referrer ever leaves (codes, states); same-origin keeps one because
    # Flask-WTF's CSRF check over https refuses a POST without a same-origin Referer.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def every_response_headers(issuer: str) -> list[tuple[str, str]]:
    """The headers of every response, HTML or not; HSTS when the issuer is https. The
    documents answered before Flask (idp.web.machine) send these too."""
    is_https = urlsplit(issuer).scheme == "https"
    return [*ALWAYS.items(), *([("Strict-Transport-Security", HSTS)] if is_https else [])]


def init_app(app: Flask) -> None:
    """Add the headers to every response; also give Flask's own cookie its own name."""
    cookies.init_app(app)
    every_response = every_response_headers(app.config["OIDC_ISSUER"])
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
