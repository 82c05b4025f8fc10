"""What a document invitation says about the document (issue 13) and where it returns: the
checks on the `details` and `return_url` a relying party sends. Pure: no Flask, no database.

Each check raises InvalidInvitation naming the member (`details.document_type.fr`), so the
API answers a clear 400 and nothing is stored or sent.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from idp.accounts.errors import InvalidEmail
from idp.accounts.services import canonical_email
from idp.invitations.errors import InvalidInvitation
from idp.invitations.models import InvitationKind
from idp.security.unicode_forms import has_hidden_characters

LOCALES = ("fr", "en")
GENDERS = ("masculine", "feminine")  # of the French name: "Un Relevé … transmis", "Une Attestation … transmise"
MAX_LABEL_LENGTH = 200
MAX_URL_LENGTH = 2000
DETAILS_MEMBERS = {"document_type", "issuer_name", "contact_email", "faq_url", "issuer_info_url"}
# Characters no address we send mail to needs, and that markup or a display name needs:
# "<b>x</b>@example.ca" and "Zoé <zoe@example.ca>" are refused, not escaped.
_MARKUP = re.compile(r"[<>\"()\[\]\\,;:`]")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def clean_address(field: str, value: Any) -> str:
    """The canonical address, or InvalidInvitation: not text, malformed, control characters
    (header injection) or markup."""
    if not isinstance(value, str) or _MARKUP.search(value):
        raise InvalidInvitation(field, "not an email address")
    try:
        return canonical_email(value)
    except InvalidEmail:
        raise InvalidInvitation(field, "not an email address") from None


def _label(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInvitation(field, "missing")
    cleaned = value.strip()
    if len(cleaned) > MAX_LABEL_LENGTH:
        raise InvalidInvitation(field, f"longer than {MAX_LABEL_LENGTH} characters")
    if has_hidden_characters(cleaned):
        raise InvalidInvitation(field, "control, bidirectional or invisible characters are not allowed")
    return cleaned


def _bilingual(field: str, value: Any, extra: Iterable[str] = ()) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidInvitation(field, "must be an object with fr and en")
    unknown = sorted(str(name) for name in value if name not in (*LOCALES, *extra))
    if unknown:
        raise InvalidInvitation(f"{field}.{unknown[0][:40]}", "unknown member")
    return {locale: _label(f"{field}.{locale}", value.get(locale)) for locale in LOCALES}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(field: str, value: Any) -> str:
    """An absolute https URL (http only on loopback, for development), without credentials."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        raise InvalidInvitation(field, f"must be an absolute URL of at most {MAX_URL_LENGTH} characters")
    if _CONTROL.search(value) or "\\" in value or has_hidden_characters(value):
        raise InvalidInvitation(field, "must be an absolute URL without spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError:
        raise InvalidInvitation(field, "must be an absolute URL") from None
    if not host or parts.username is not None or parts.password is not None:
        raise InvalidInvitation(field, "must be an absolute URL with a host and no credentials")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise InvalidInvitation(field, "must be an https URL")
    return value


def origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the default port made explicit; None when unparseable."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def check_details(value: Any) -> dict[str, Any]:
    """The document's description as stored: names in both languages, the school's contact
    address, the FAQ link and the school's own page about the service if any. Raises
    InvalidInvitation."""
    if not isinstance(value, dict):
        raise InvalidInvitation("details", "must be an object")
    unknown = sorted(str(name) for name in value if name not in DETAILS_MEMBERS)
    if unknown:
        raise InvalidInvitation(f"details.{unknown[0][:40]}", "unknown member")
    raw_type = value.get("document_type")
    document_type: dict[str, str] = _bilingual("details.document_type", raw_type, extra=("gender",))
    gender = raw_type.get("gender", "masculine")
    if gender not in GENDERS:
        raise InvalidInvitation("details.document_type.gender", "must be masculine or feminine")
    document_type["gender"] = gender
    details: dict[str, Any] = {
        "document_type": document_type,
        "issuer_name": _bilingual("details.issuer_name", value.get("issuer_name")),
        "contact_email": clean_address("details.contact_email", value.get("contact_email")),
    }
    for link in ("faq_url", "issuer_info_url"):  # the FAQ; the school's page about the service
        if value.get(link) is not None:
            details[link] = _url(f"details.{link}", value.get(link))
    return details


def check_return_url(value: Any, redirect_uris: Iterable[str]) -> str:
    """return_url if it is on the origin of one of the client's registered redirect URIs
    (no open redirect, RFC 9700 §4.11). Raises InvalidInvitation."""
    url = _url("return_url", value)
    allowed = {origin(uri) for uri in redirect_uris} - {None}
    if origin(url) not in allowed:
        raise InvalidInvitation("return_url", "must be on the origin of one of the client's redirect URIs")
    return url


def check_document(
    kind: str, document: Any, return_url: Any, redirect_uris: Iterable[str]
) -> tuple[dict[str, Any] | None, str | None]:
    """A document invitation's stored details and return URL, or (None, None) for an
    invitation without a document. Raises InvalidInvitation: a document invitation is a
    link invitation, its details and return_url are checked as above."""
    if document is None:
        return None, None
    if kind != InvitationKind.LINK:
        raise InvalidInvitation("kind", "a document invitation is a link invitation")
    return check_details(document), check_return_url(return_url, redirect_uris)
