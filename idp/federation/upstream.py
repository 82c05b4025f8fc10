"""Talking to a partner over the back channel: its discovery document, its public keys, the
token request, and checking the ID token it returns. No Flask, no database.

Plain `requests` rather than Authlib's OAuth2Session: the exchange is one form POST with
HTTP Basic client authentication, and the broker needs exact control of what Authlib's
session would hide: a timeout on every call, no redirects followed, a bound on response
sizes, and telling "the partner is down" (PartnerUnavailable) from "the partner answered
wrongly" (InvalidPartnerResponse). The ID token is checked with joserfc, as issue 5 asks.

Discovery and keys are cached per worker (PartnerMetadataCache): they are public, so a
worker-local copy is safe, and every worker fetches its own when it needs one. The state
of each round trip lives in the database (idp.federation.models.PartnerRequest).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.federation.errors import InvalidPartnerResponse, PartnerUnavailable
from idp.federation.partners import Partner

# Asymmetric algorithms only: with HS256 the client secret would be the key (and the "none"
# algorithm proves nothing), OIDC Core §10.1.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
MAX_RESPONSE_BYTES = 256 * 1024
# Seconds of clock difference tolerated on exp and iat.
LEEWAY = 60


def new_code_verifier() -> str:
    """RFC 7636 §4.1: 43 to 128 characters; 64 random bytes, base64url."""
    return secrets.token_urlsafe(64)[:128]


def code_challenge(verifier: str) -> str:
    """RFC 7636 §4.2, S256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Cached:
    metadata: dict[str, Any]
    fetched_at: float
    keys: KeySet | None = None
    keys_fetched_at: float = 0.0


class PartnerMetadataCache:
    """Discovery documents and public keys of partners, per worker, for ttl seconds; an
    unknown key id refreshes the keys once, at most every min_refresh seconds (issue 5:
    refreshed on an unknown kid, with a bound)."""

    def __init__(self, ttl: float, min_refresh: float, monotonic: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.monotonic = monotonic
        self._entries: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def get(self, partner: Partner) -> _Cached | None:
        with self._lock:
            entry = self._entries.get(partner.issuer)
        if entry is None or self.monotonic() - entry.fetched_at > self.ttl:
            return None
        return entry

    def put_metadata(self, partner: Partner, metadata: dict[str, Any]) -> _Cached:
        entry = _Cached(metadata=metadata, fetched_at=self.monotonic())
        with self._lock:
            self._entries[partner.issuer] = entry
        return entry

    def may_refresh_keys(self, entry: _Cached) -> bool:
        return entry.keys is None or self.monotonic() - entry.keys_fetched_at >= self.min_refresh

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class PartnerClient:
    """One partner's endpoints, as Passerelle's one client of it."""

    def __init__(self, partner: Partner, cache: PartnerMetadataCache, timeout: float, http: requests.Session | None = None):
        self.partner = partner
        self.cache = cache
        self.timeout = timeout
        self.http = http or requests.Session()

    # --- Back-channel calls ------------------------------------------------------------

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url, timeout=self.timeout, allow_redirects=False, headers={"Accept": "application/json"})
        except requests.RequestException as error:
            raise PartnerUnavailable(f"{url}: {type(error).__name__}") from None
        return self._json_of(response, url)

    def _json_of(self, response: requests.Response, url: str) -> dict[str, Any]:
        if response.status_code >= 500 or response.status_code == 429:
            raise PartnerUnavailable(f"{url}: HTTP {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise InvalidPartnerResponse(f"{url}: response larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise InvalidPartnerResponse(f"{url}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(data, dict):
            raise InvalidPartnerResponse(f"{url}: not a JSON object")
        if response.status_code != 200 and "error" not in data:
            raise InvalidPartnerResponse(f"{url}: HTTP {response.status_code}")
        return data

    def metadata(self) -> dict[str, Any]:
        """The partner's discovery document (cached). OIDC Discovery 1.0 §4.3: its issuer
        must be exactly the configured one."""
        entry = self.cache.get(self.partner)
        if entry is not None:
            return entry.metadata
        return self._fetch_metadata().metadata

    def _fetch_metadata(self):
        metadata = self._get_json(self.partner.discovery_url)
        if metadata.get("issuer") != self.partner.issuer:
            raise InvalidPartnerResponse(f"discovery issuer {metadata.get('issuer')!r} is not {self.partner.issuer!r}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            url = metadata.get(name)
            if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
                raise InvalidPartnerResponse(f"discovery has no usable {name}")
        return self.cache.put_metadata(self.partner, metadata)

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The partner's public keys (cached with the discovery document). refresh fetches
        them again if the bound allows; otherwise the cached keys are returned."""
        entry = self.cache.get(self.partner) or self._fetch_metadata()
        if entry.keys is not None and not (refresh and self.cache.may_refresh_keys(entry)):
            return entry.keys
        data = self._get_json(entry.metadata["jwks_uri"])
        try:
            keys = KeySet.import_key_set(
                {"keys": [key for key in data.get("keys", []) if isinstance(key, dict) and key.get("kty") != "oct"]}
            )
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidPartnerResponse(f"JWKS cannot be read: {error}") from None
        entry.keys = keys
        entry.keys_fetched_at = self.cache.monotonic()
        return keys

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str, ui_locale: str | None = None
    ) -> str:
        """Where the browser goes: OIDC Core §3.1.2.1 with PKCE S256. Only the partner's
        client id and Passerelle's one redirect URI; nothing names the relying party."""
        endpoint = self.metadata()["authorization_endpoint"]
        params = {
            "response_type": "code",
            "client_id": self.partner.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.partner.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        if ui_locale:
            params["ui_locales"] = ui_locale  # OIDC Core §3.1.2.1
        separator = "&" if urlsplit(endpoint).query else "?"
        return endpoint + separator + urlencode(params)

    def requires_iss_parameter(self) -> bool:
        """RFC 9207 §3: a partner that announces the `iss` response parameter must send it."""
        return self.metadata().get("authorization_response_iss_parameter_supported") is True

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str, now: datetime) -> dict[str, Any]:
        """The token request (OIDC Core §3.1.3.1). Returns the token response.

        client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded before Basic), or
        private_key_jwt (OIDC Core §9): an assertion signed with Passerelle's key, for the
        token endpoint, valid one minute, with a fresh jti.
        """
        url = self.metadata()["token_endpoint"]
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
        headers = {"Accept": "application/json"}
        if self.partner.private_key is not None:
            data.update(client_id=self.partner.client_id, client_assertion=self._client_assertion(url, now),
                        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        else:
            credentials = f"{quote(self.partner.client_id, safe='')}:{quote(self.partner.client_secret or '', safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        try:
            response = self.http.post(url, data=data, headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            raise PartnerUnavailable(f"{url}: {type(error).__name__}") from None
        data = self._json_of(response, url)
        if "error" in data:
            raise InvalidPartnerResponse(f"token error {data.get('error')!r}")
        if not isinstance(data.get("id_token"), str):
            raise InvalidPartnerResponse("token response without an id_token")
        return data

    def _client_assertion(self, token_endpoint: str, now: datetime) -> str:
        key = self.partner.private_key
        moment = int(now.timestamp())
        claims = {
            "iss": self.partner.client_id, "sub": self.partner.client_id, "aud": token_endpoint,
            "jti": secrets.token_urlsafe(24), "iat": moment, "exp": moment + 60,
        }
        alg = "ES256" if key.key_type == "EC" else "RS256"
        return jwt.encode({"alg": alg, "kid": key.thumbprint()}, claims, key)

    # --- The ID token --------------------------------------------------------------------

    def verify_id_token(self, id_token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        """Check the ID token fully (OIDC Core §3.1.3.7) and return its claims.

        Signature against the partner's keys (an unknown kid refreshes them once), then iss,
        aud, azp, exp, iat and nonce. Raises InvalidPartnerResponse, or PartnerUnavailable
        when the keys cannot be fetched.
        """
        try:
            token = jwt.decode(id_token, self.keys(), algorithms=ID_TOKEN_ALGORITHMS)
        except (JoseError, ValueError, TypeError) as first_error:
            if not self._has_unknown_kid(id_token):
                raise InvalidPartnerResponse(f"ID token signature: {first_error}") from None
            try:
                token = jwt.decode(id_token, self.keys(refresh=True), algorithms=ID_TOKEN_ALGORITHMS)
            except (JoseError, ValueError, TypeError) as error:
                raise InvalidPartnerResponse(f"ID token signature: {error}") from None
        claims = token.claims
        self._check_claims(claims, nonce=nonce, now=now)
        return claims

    def _has_unknown_kid(self, id_token: str) -> bool:
        try:
            header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "==="))
        except (ValueError, IndexError):
            return False
        kid = header.get("kid") if isinstance(header, dict) else None
        if not isinstance(kid, str):
            return False
        try:
            self.keys().get_by_kid(kid)
        except (JoseError, ValueError, KeyError):  # joserfc raises InvalidKeyIdError
            return True
        return False

    def _check_claims(self, claims: dict[str, Any], *, nonce: str, now: datetime) -> None:
        partner = self.partner
        if claims.get("iss") != partner.issuer:
            raise InvalidPartnerResponse(f"ID token iss {claims.get('iss')!r} is not {partner.issuer!r}")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if partner.client_id not in audiences:
            raise InvalidPartnerResponse("ID token aud does not name Passerelle's client id")
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != partner.client_id:
            raise InvalidPartnerResponse("ID token azp is not Passerelle's client id")
        moment = now.timestamp()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_number(exp) or exp + LEEWAY <= moment:
            raise InvalidPartnerResponse("ID token expired (exp)")
        if not _is_number(iat) or iat - LEEWAY > moment:
            raise InvalidPartnerResponse("ID token issued in the future (iat)")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
            raise InvalidPartnerResponse("ID token nonce is not this request's")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise InvalidPartnerResponse("ID token sub is missing or longer than 255 characters")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
