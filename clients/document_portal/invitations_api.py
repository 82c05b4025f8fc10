"""Passerelle's invitations API, with the portal's own client credentials (scope
`invitations`): tell a learner a document awaits them, list the invitations Passerelle has
bound to a person, revoke one. No Flask.

Passerelle sends the one email (an invitation with « M'inscrire » to a new address, "a new
document is available" with a sign-in link to an existing account) and answers the same
either way, so the portal never learns whether an address has an account.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from clients.document_portal.config import Settings
from clients.document_portal.errors import (
    ApiNotAllowed,
    ApiRateLimited,
    ApiRefused,
    ApiUnavailable,
)

SCOPE = "invitations"
# The French name's gender, for « Un Relevé … transmis » / « Une Attestation … transmise ».
GENDERS = {"transcript": "masculine", "diploma": "masculine", "attestation": "feminine"}


@dataclass(frozen=True)
class DocumentInvitation:
    email: str
    given_name: str
    family_name: str
    locale: str
    kind: str
    title_fr: str
    title_en: str
    issuer_name_fr: str
    issuer_name_en: str
    contact_email: str
    organization_number: str | None = None  # the school's, for its own page (SCHOOL_PAGES)


class InvitationsApi:
    """Calls to /api/invitations; a client_credentials token is kept until shortly before it
    expires. Raises ApiUnavailable, ApiNotAllowed, ApiRateLimited or ApiRefused."""

    def __init__(self, settings: Settings, metadata: Callable[[], dict[str, Any]],
                 http: requests.Session | None = None):
        self.settings = settings
        self._metadata = metadata
        self._http = http or requests.Session()
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"{self.settings.DOCUMENT_PORTAL_ISSUER}/api/invitations"

    def invite(self, invitation: DocumentInvitation) -> str:
        """Ask Passerelle to tell the learner; returns the invitation's id."""
        body = {
            "email": invitation.email,
            "given_name": invitation.given_name,
            "family_name": invitation.family_name,
            "locale": invitation.locale,
            "purpose": "document",
            "details": {
                "document_type": {"fr": invitation.title_fr, "en": invitation.title_en,
                                  "gender": GENDERS.get(invitation.kind, "masculine")},
                "issuer_name": {"fr": invitation.issuer_name_fr, "en": invitation.issuer_name_en},
                "contact_email": invitation.contact_email,
                "faq_url": self.settings.faq_url,
            },
            "return_url": f"{self.settings.DOCUMENT_PORTAL_BASE_URL}/login",
        }
        school_page = self.settings.school_page(invitation.organization_number)
        if school_page:
            body["details"]["issuer_info_url"] = school_page
        answer = self._call("POST", self.base, json=body)
        invitation_id = answer.get("id")
        if not isinstance(invitation_id, str) or not invitation_id:
            raise ApiUnavailable("no invitation id")
        return invitation_id

    def bound_to(self, sub: str) -> list[str]:
        """The ids of this portal's invitations Passerelle has bound to the person."""
        answer = self._call("GET", self.base, params={"subject": sub})
        invitations = answer.get("invitations")
        if not isinstance(invitations, list):
            raise ApiUnavailable("no invitations list")
        return [item["id"] for item in invitations if isinstance(item, dict) and isinstance(item.get("id"), str)]

    def revoke(self, invitation_id: str) -> None:
        """Revoke an invitation not yet accepted (204, also when already revoked); an accepted
        one stays (Passerelle says 409, which is not an error here)."""
        try:
            self._call("DELETE", f"{self.base}/{invitation_id}")
        except ApiRefused:
            pass

    def _access_token(self) -> str:
        with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            try:
                endpoint = self._metadata()["token_endpoint"]
                response = self._http.post(
                    endpoint, data={"grant_type": "client_credentials", "scope": SCOPE},
                    auth=(self.settings.DOCUMENT_PORTAL_CLIENT_ID, self.settings.DOCUMENT_PORTAL_CLIENT_SECRET),
                    timeout=self.settings.DOCUMENT_PORTAL_API_TIMEOUT,
                )
            except (requests.RequestException, KeyError, ValueError) as error:
                raise ApiUnavailable(type(error).__name__) from error
            if response.status_code in (400, 401, 403):
                raise ApiNotAllowed(f"token endpoint said {response.status_code}")
            try:
                answer = response.json()
                token, lifetime = answer["access_token"], int(answer.get("expires_in", 60))
            except (ValueError, KeyError, TypeError) as error:
                raise ApiUnavailable("unreadable token response") from error
            self._token = (token, time.monotonic() + max(lifetime - 30, 0))
            return token

    def _call(self, method: str, url: str, **arguments: Any) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                response = self._http.request(method, url, timeout=self.settings.DOCUMENT_PORTAL_API_TIMEOUT,
                                              headers={"Authorization": f"Bearer {self._access_token()}"},
                                              **arguments)
            except requests.RequestException as error:
                raise ApiUnavailable(type(error).__name__) from error
            if response.status_code == 401 and attempt == 1:
                self._token = None  # expired or revoked early: one new token, once
                continue
            return self._answer(response)
        raise ApiNotAllowed("401")

    @staticmethod
    def _answer(response: requests.Response) -> dict[str, Any]:
        if response.status_code in (401, 403):
            raise ApiNotAllowed(str(response.status_code))
        if response.status_code == 429:
            raise ApiRateLimited()
        if response.status_code == 204:
            return {}  # DELETE: revoked (or already)
        try:
            answer = response.json()
        except ValueError as error:
            raise ApiUnavailable(f"unreadable answer ({response.status_code})") from error
        if 400 <= response.status_code < 500:
            raise ApiRefused(str(answer.get("error_description") or answer.get("error") or response.status_code))
        if response.status_code >= 300 or not isinstance(answer, dict):
            raise ApiUnavailable(str(response.status_code))
        return answer
