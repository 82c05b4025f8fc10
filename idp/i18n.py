"""Languages: French and English, chosen from ui_locales, then the cookie, then Accept-Language."""

from __future__ import annotations

from flask import current_app, g, request

LOCALES = ("fr", "en")


def first_supported(tags: str | None) -> str | None:
    """The first supported language in a space- or comma-separated list of tags ("fr-CA en")."""
    for tag in (tags or "").replace(",", " ").split():
        language = tag.split("-")[0].split("_")[0].lower()
        if language in LOCALES:
            return language
    return None


def select_locale() -> str:
    chosen = getattr(g, "locale", None)
    if chosen in LOCALES:
        return chosen
    from_request = first_supported(request.values.get("ui_locales")) if request else None
    if from_request:
        return from_request
    cookie = request.cookies.get(current_app.config["LANGUAGE_COOKIE_NAME"])
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or _best_by_prefix() or current_app.config["BABEL_DEFAULT_LOCALE"]


def _best_by_prefix() -> str | None:
    """Accept-Language "fr-CA" counts as French even without a bare "fr"."""
    for value, _quality in request.accept_languages:
        language = first_supported(value)
        if language:
            return language
    return None
