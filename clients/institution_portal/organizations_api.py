"""The portal's client for Passerelle's organizations API (`/api/organizations`, docs/openapi.yaml),
with the portal's own client credentials: no Flask here, so the views, the institutions sync
and the command line share it.

- Tokens come from the client_credentials grant with the `organizations` scope (RFC 6749
  §4.4), the portal's client id and secret sent with HTTP Basic (client_secret_basic). One is
  kept until TOKEN_MARGIN before it expires, then a new one is asked for; a token Passerelle
  no longer accepts (401) is dropped and the call made once more with a fresh one.
- Passerelle names people by their `sub` for this client, the one in the portal's ID tokens:
  invitations and requests are made on behalf of the signed-in primary user (`acting_sub`).
- Every call has a timeout. Failures raise the classes of errors.py: ApiUnavailable when
  Passerelle is down, slow or answers nonsense, one class per refusal otherwise.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from clients.institution_portal.config import Settings
from clients.institution_portal.errors import (
    AlreadyMember,
    ApiNotAllowed,
    ApiRateLimited,
    ApiUnavailable,
    InvalidApiRequest,
    NotPrimaryUser,
    OrganizationDisabled,
    OrganizationNotReachable,
    OrganizationsApiError,
    PrimaryCannotBeRemoved,
    PrimaryExists,
    RequestAlreadyPending,
)

API_SCOPE = "organizations"
# (connect, read) seconds: a Passerelle that does not answer gives a clear page quickly.
TIMEOUT = (3.05, 10)
# A token is renewed this long before it expires, so none expires on its way to Passerelle.
TOKEN_MARGIN = timedelta(seconds=60)

# Passerelle's error codes (idp/orgs/api.py REFUSALS) -> the portal's classes.
ERRORS_BY_CODE: dict[str, type[OrganizationsApiError]] = {
    "not_found": OrganizationNotReachable,
    "access_denied": NotPrimaryUser,
    "organization_disabled": OrganizationDisabled,
    "already_member": AlreadyMember,
    "request_pending": RequestAlreadyPending,
    "primary_cannot_be_removed": PrimaryCannotBeRemoved,
    "primary_exists": PrimaryExists,
    "invalid_token": ApiNotAllowed,
    "insufficient_scope": ApiNotAllowed,
    "invalid_client": ApiNotAllowed,
    "unauthorized_client": ApiNotAllowed,
    "invalid_scope": ApiNotAllowed,
    "too_many_requests": ApiRateLimited,
}
QUOTED_MEMBER = re.compile(r"'([a-z_]{1,40})'")


@dataclass(frozen=True)
class Organization:
    id: str
    kind: str
    number: str
    name_fr: str
    name_en: str
    state: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fr


@dataclass(frozen=True)
class Member:
    sub: str
    email: str
    given_name: str | None
    family_name: str | None
    role: str
    state: str
    joined_at: datetime | None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)


@dataclass(frozen=True)
class MemberInvitation:
    id: str
    email: str
    role: str
    state: str
    locale: str
    created_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class ChangeRequest:
    id: str
    kind: str
    state: str
    reason: str
    requested_by_sub: str | None
    target_sub: str | None
    new_email: str | None
    former_primary_becomes: str | None
    created_at: datetime | None
    decided_at: datetime | None
    decision_reason: str | None


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value))


class OrganizationsApi:
    """Passerelle's organizations API as the portal's client sees it. Thread-safe: one
    instance per process keeps the token for every request."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], transport: requests.Session | None = None):
        self._settings = settings
        self._clock = clock
        self._http = transport or requests.Session()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at: datetime | None = None
        self._token_endpoint: str | None = None

    @property
    def base_url(self) -> str:
        return f"{self._settings.PORTAL_ISSUER}/api/organizations"

    # Reading

    def list_organizations(self) -> list[Organization]:
        """The organizations an operator attached to the portal's client (`idp orgs attach`)."""
        body = self._call("GET", self.base_url)
        return [self._organization(item) for item in self._list(body, "organizations")]

    def get_organization(self, organization_id: str) -> Organization:
        return self._organization(self._call("GET", self._url(organization_id)))

    def list_members(self, organization_id: str) -> list[Member]:
        """The organization's members, the primary user first."""
        body = self._call("GET", self._url(organization_id, "members"))
        return [self._member(item) for item in self._list(body, "members")]

    def list_invitations(self, organization_id: str) -> list[MemberInvitation]:
        """The invitations nobody registered with nor withdrew: pending, then expired."""
        body = self._call("GET", self._url(organization_id, "invitations"))
        return [self._invitation(item) for item in self._list(body, "invitations")]

    def list_requests(self, organization_id: str, state: str | None = None) -> list[ChangeRequest]:
        """The organization's change requests, oldest first (only one state if given)."""
        params = {"state": state} if state else None
        body = self._call("GET", self._url(organization_id, "requests"), params=params)
        return [self._request(item) for item in self._list(body, "requests")]

    # Acting for the primary user

    def invite(self, organization_id: str, *, acting_sub: str, email: str, locale: str | None = None) -> MemberInvitation:
        """« Nouvelle requête »: Passerelle emails the address a code to register as a
        secondary user. Raises NotPrimaryUser, AlreadyMember, InvalidApiRequest, …"""
        body = self._call("POST", self._url(organization_id, "invitations"),
                          json={"acting_sub": acting_sub, "email": email, "locale": locale})
        return self._invitation(body)

    def request_change(self, organization_id: str, *, acting_sub: str, kind: str, reason: str,
                       target_sub: str | None = None, new_email: str | None = None, locale: str | None = None,
                       former_primary_becomes: str | None = None) -> ChangeRequest:
        """Ask Passerelle's operators to change the primary user (kind change_primary) or
        remove a secondary user (kind remove_secondary)."""
        payload: dict[str, str | None] = {"acting_sub": acting_sub, "kind": kind, "reason": reason}
        for name, value in (("target_sub", target_sub), ("new_email", new_email), ("locale", locale),
                            ("former_primary_becomes", former_primary_becomes)):
            if value is not None:
                payload[name] = value
        return self._request(self._call("POST", self._url(organization_id, "requests"), json=payload))

    # The token

    def access_token(self) -> str:
        """A client_credentials access token, kept until TOKEN_MARGIN before it expires."""
        with self._lock:
            if self._token is not None and self._token_expires_at is not None \
                    and self._clock() < self._token_expires_at - TOKEN_MARGIN:
                return self._token
            response = self._send("POST", self._endpoint(), data={"grant_type": "client_credentials",
                                                                   "scope": API_SCOPE},
                                  auth=(self._settings.PORTAL_CLIENT_ID, self._settings.PORTAL_CLIENT_SECRET))
            body = self._json(response)
            if response.status_code != 200:
                raise self._refusal(response.status_code, body)
            token, lifetime = body.get("access_token"), body.get("expires_in", 0)
            if not isinstance(token, str) or not token or not isinstance(lifetime, int):
                raise ApiUnavailable("token response without an access token")
            self._token, self._token_expires_at = token, self._clock() + timedelta(seconds=lifetime)
            return token

    def forget_token(self) -> None:
        with self._lock:
            self._token = self._token_expires_at = None

    def _endpoint(self) -> str:
        """The token endpoint, from Passerelle's discovery document (read once)."""
        if self._token_endpoint is None:
            response = self._send("GET", f"{self._settings.PORTAL_ISSUER}/.well-known/openid-configuration")
            endpoint = self._json(response).get("token_endpoint") if response.status_code == 200 else None
            if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
                raise ApiUnavailable("no token_endpoint in Passerelle's discovery document")
            self._token_endpoint = endpoint
        return self._token_endpoint

    # HTTP

    def _url(self, organization_id: str, *rest: str) -> str:
        # Ids are Passerelle's random public ids; anything else cannot name an organization.
        if not isinstance(organization_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", organization_id):
            raise OrganizationNotReachable(organization_id)
        return "/".join((self.base_url, organization_id, *rest))

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.access_token()}", "Accept": "application/json"}
            response = self._send(method, url, headers=headers, **kwargs)
            if response.status_code == 401 and attempt == 1:
                self.forget_token()  # revoked, or Passerelle's clock ran ahead: one more try
                continue
            body = self._json(response)
            if response.status_code in (200, 201):
                return body
            raise self._refusal(response.status_code, body)
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._http.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            raise ApiUnavailable(repr(error)) from error
        if response.status_code >= 500:
            raise ApiUnavailable(f"{method} {url}: {response.status_code}")
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as error:
            raise ApiUnavailable(f"not JSON ({response.status_code})") from error
        if not isinstance(body, dict):
            raise ApiUnavailable("not a JSON object")
        return body

    @staticmethod
    def _refusal(status: int, body: Mapping[str, Any]) -> OrganizationsApiError:
        code = str(body.get("error") or "")
        description = str(body.get("error_description") or code or status)
        if status == 429:
            return ApiRateLimited(description)
        if code in ERRORS_BY_CODE:
            return ERRORS_BY_CODE[code](description)
        if status in (401, 403):
            return ApiNotAllowed(description)
        if status == 404:
            return OrganizationNotReachable(description)
        if status == 400:
            found = QUOTED_MEMBER.search(description)
            return InvalidApiRequest(description, found.group(1) if found else None)
        return ApiUnavailable(f"{status}: {description}")

    # Representations (a missing member is Passerelle answering outside its schema)

    @staticmethod
    def _list(body: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        items = body.get(name)
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise ApiUnavailable(f"no list of {name}")
        return items

    @staticmethod
    def _organization(item: Mapping[str, Any]) -> Organization:
        try:
            names = item.get("name") or {}
            return Organization(id=item["id"], kind=item["kind"], number=item["number"], name_fr=names.get("fr") or "",
                                name_en=names.get("en") or "", state=item["state"])
        except (KeyError, TypeError, AttributeError) as error:
            raise ApiUnavailable(f"malformed organization: {error!r}") from error

    @staticmethod
    def _member(item: Mapping[str, Any]) -> Member:
        try:
            return Member(sub=item["sub"], email=item["email"], given_name=item.get("given_name"),
                          family_name=item.get("family_name"), role=item["role"], state=item["state"],
                          joined_at=parse_time(item.get("joined_at")))
        except (KeyError, TypeError, ValueError) as error:
            raise ApiUnavailable(f"malformed member: {error!r}") from error

    @staticmethod
    def _invitation(item: Mapping[str, Any]) -> MemberInvitation:
        try:
            return MemberInvitation(id=item["id"], email=item["email"], role=item["role"], state=item["state"],
                                    locale=item.get("locale") or "fr", created_at=parse_time(item.get("created_at")),
                                    expires_at=parse_time(item.get("expires_at")))
        except (KeyError, TypeError, ValueError) as error:
            raise ApiUnavailable(f"malformed invitation: {error!r}") from error

    @staticmethod
    def _request(item: Mapping[str, Any]) -> ChangeRequest:
        try:
            return ChangeRequest(
                id=item["id"], kind=item["kind"], state=item["state"], reason=item.get("reason") or "",
                requested_by_sub=item.get("requested_by_sub"), target_sub=item.get("target_sub"),
                new_email=item.get("new_email"), former_primary_becomes=item.get("former_primary_becomes"),
                created_at=parse_time(item.get("created_at")), decided_at=parse_time(item.get("decided_at")),
                decision_reason=item.get("decision_reason"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ApiUnavailable(f"malformed request: {error!r}") from error
