"""Languages: French and English, chosen from ui_locales, then the cookie, then Accept-Language."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from werkzeug.exceptions import HTTPException

LOCALES = ("fr", "en")


def first_supported(tags: str | None) -> str | None:
    """The first supported language in a space- or comma-separated list of tags ("fr-CA en")."""
    for tag in (tags or "").replace(",", " ").split():
        language = tag.split("-")[0].split("_")[0].lower()
        if language in LOCALES:
            return language
    return None


def select_locale() -> str:
    """The language of this response (Flask-Babel's locale selector).

    In order: a language a view has already settled on (`g.locale`, e.g. from the sign-in
    transaction's ui_locales), `ui_locales` on this request (OIDC Core §3.1.2.1), the language
    cookie set by the toggle, then Accept-Language, where a regional tag such as fr-CA counts
    as its language. Outside a request (mail, commands) the default locale.
    """
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    chosen = getattr(g, "locale", None)
    if chosen in LOCALES:
        return chosen
    requested = first_supported(_ui_locales())
    if requested:
        return requested
    cookie = request.cookies.get(current_app.config["LANGUAGE_COOKIE_NAME"])
    if cookie in LOCALES:
        return cookie
    return from_accept_language() or default


def _ui_locales() -> str | None:
    """ui_locales from the query or a form body; a body that cannot be parsed counts as absent.

    Error pages (413, 400) render through this selector too, so reading an oversized or
    malformed body here must not raise a second time.
    """
    value = request.args.get("ui_locales")
    if value is None and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        try:
            value = request.form.get("ui_locales")
        except HTTPException:
            return None
    return value


def from_accept_language() -> str | None:
    """The supported language the browser prefers most, matching on the primary subtag.

    Werkzeug's best_match prefers an exact match at any quality over a regional one, so
    "fr-CA, en;q=0.5" would give English; here the person's order of preference wins.
    """
    for value, quality in request.accept_languages:  # sorted by quality, highest first
        if quality <= 0:
            continue
        language = first_supported(value)
        if language:
            return language
    return None
