"""Reading what Passerelle sent: links and codes out of real messages (the mailbox fixture)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from idp.mail.devbox import html_body, text_body

__all__ = ["html_body", "text_body", "links_in", "path_of_link", "code_in"]

_LINK = re.compile(r"https?://[^\s<>\"']+")
_CODE = re.compile(r"(?<![\w-])(\d{6})(?![\w-])")


def links_in(message: EmailMessage) -> list[str]:
    """Every absolute link in the text body, in order."""
    return _LINK.findall(text_body(message))


def path_of_link(message: EmailMessage, contains: str) -> str:
    """The path and query of the first link containing `contains`, for the test client."""
    for link in links_in(message):
        if contains in link:
            parts = urlsplit(link)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link containing {contains!r} in {links_in(message)}")


def code_in(message: EmailMessage) -> str:
    """The first 6-digit code in the text body."""
    match = _CODE.search(text_body(message))
    assert match, f"no 6-digit code in: {text_body(message)!r}"
    return match.group(1)
