"""A person-readable name for the device behind a session: its browser and operating system.

Deliberately small: a few substring rules over the User-Agent header, tried in order, so an
unusual or forged header gives "unknown" rather than a wrong guess or an error. The header
is whatever the client sent; this is a hint for the person, never a security decision.
"""

from __future__ import annotations

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari", and
# iOS browsers say "like Mac OS X", Android ones "Linux".
_BROWSERS = (
    ("Edge", ("Edg/", "Edge/", "EdgA/", "EdgiOS/")),
    ("Opera", ("OPR/", "Opera")),
    ("Samsung Internet", ("SamsungBrowser/",)),
    ("Firefox", ("Firefox/", "FxiOS/")),
    ("Chrome", ("Chrome/", "CriOS/", "Chromium/")),
    ("Safari", ("Safari/",)),
)
_SYSTEMS = (
    ("Windows", ("Windows",)),
    ("iOS", ("iPhone", "iPad", "iPod")),
    ("Android", ("Android",)),
    ("ChromeOS", ("CrOS",)),
    ("macOS", ("Macintosh", "Mac OS X")),
    ("Linux", ("Linux", "X11")),
)


def _first_match(user_agent: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    for name, markers in rules:
        if any(marker in user_agent for marker in markers):
            return name
    return None


def describe_user_agent(user_agent: str | None) -> tuple[str | None, str | None]:
    """(browser, operating system) named from a User-Agent header; None for what is unknown.

    >>> describe_user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
    ('Chrome', 'Linux')
    """
    if not user_agent:
        return None, None
    browser = _first_match(user_agent, _BROWSERS)
    if browser == "Safari" and "Version/" not in user_agent:
        browser = None  # "Safari/" alone is also sent by many embedded web views and bots
    return browser, _first_match(user_agent, _SYSTEMS)
