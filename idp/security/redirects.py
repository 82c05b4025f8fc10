"""Local return URLs only: the guard against open redirects (ASVS 3.7.2, RFC 9700 §4.11)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def is_safe_local_path(target: str | None) -> bool:
    """True for a same-origin absolute path such as "/account?x=1"; false for anything else.

    Refuses "//host", "/\\host", schemes, control characters and backslashes anywhere,
    since browsers treat "\\" as "/".
    """
    if not target or len(target) > 2048 or not target.startswith("/"):
        return False
    if target.startswith("//") or "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_local_path(target: str | None, fallback: str = "/") -> str:
    return target if is_safe_local_path(target) else fallback


def with_query(uri: str, **params: str) -> str:
    """uri with these query parameters added (kept: its own parameters)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(key, value) for key, value in params.items() if value]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
