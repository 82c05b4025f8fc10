"""What every portal's views share: the language of the page, a safe local redirect target,
and the security headers of every response."""

from __future__ import annotations

from flask import request, session

LOCALES = ("fr", "en")


def select_locale() -> str:
    """The language the person chose on the portal (session "lang"), else the browser's."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "fr"


def is_local_path(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def apply_security_headers(response, *, form_action_origin: str, https: bool):
    """No framing, no inline script or style, nothing cached, no referrer (callback URLs
    carry codes). Forms may lead to Passerelle: Chromium applies form-action to the
    redirects after a POST, so its origin is allowed there. A view that needs another
    policy (a PDF shown inline) sets its own headers first: these are only defaults."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action 'self' {form_action_origin}; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cache-Control", "no-store")
    if https:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (a Content-Security-Policy source)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"
