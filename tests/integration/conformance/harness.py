"""A small imitation of the OpenID conformance suite's OP checks (shared/conformance-plan.md).

Screenshot ("REVIEW") outcomes are asserted automatically: an error page is a non-redirect
response that neither redirects nor auto-posts to the client; a second login is the sign-in
page being shown again.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
from collections import Counter
from urllib.parse import urlencode, urlsplit

from joserfc import jws, jwt
from joserfc.jwk import KeySet

from tests.oidc_support import PASSWORD, RegisteredClient, csrf_token, query_of
from tests.signin_support import CODE_PATH, TERMS_PATH, signin_codes_sent, wait_for_signin_code

ISSUER = "http://127.0.0.1:5000"
ALLOWED_ID_TOKEN_CLAIMS = {
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash",
    "c_hash", "s_hash", "nbf", "jti", "sid",
}


def callback(response, mode: str, client: RegisteredClient) -> dict[str, str]:
    """The parameters the client receives, read the way the suite reads them (§0.3)."""
    if mode == "form_post":
        assert response.status_code == 200, response.status_code
        page = response.get_data(as_text=True)
        action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
        assert action == client.redirect_uri, "form_post must POST to the exact redirect URI"
        assert "code=" not in urlsplit(action).query and "error=" not in urlsplit(action).query
        return {html.unescape(k): html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    assert location.startswith(client.redirect_uri.split("?")[0])
    return query_of(location)


def is_error_page(response, client: RegisteredClient) -> bool:
    """§0.9: no redirect to any client URI and no auto-submitted form to one."""
    if response.status_code in (301, 302, 303, 307, 308):
        return False
    return client.redirect_uri.split("?")[0] not in response.get_data(as_text=True) or "form-post-response" not in response.get_data(as_text=True)


def shannon_bits(value: str) -> float:
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy * len(value)


class Browser:
    """A test client that signs in when the IdP asks, and remembers whether it had to."""

    def __init__(self, http, email="zoe@example.ca", password=PASSWORD):
        self.http = http
        self.email = email
        self.password = password
        self.login_pages = 0
        self.consent_pages = 0

    def authorize(self, params: dict[str, str], method: str = "GET", consent: str = "allow"):
        if method == "POST":
            response = self.http.post("/authorize", data=params)
        else:
            response = self.http.get("/authorize?" + urlencode(params))
        codes_before = signin_codes_sent(self.email)
        for _ in range(12):
            location = response.headers.get("Location", "")
            if response.status_code not in (302, 303) or urlsplit(location).netloc:
                return response
            page = self.http.get(location)
            path = urlsplit(location).path
            if path == "/signin" and page.status_code == 200:
                self.login_pages += 1
                codes_before = signin_codes_sent(self.email)
                response = self.http.post("/signin", data={"email": self.email, "password": self.password, "csrf_token": csrf_token(page.text)})
            elif path == CODE_PATH and page.status_code == 200:
                code = wait_for_signin_code(self.email, codes_before)
                response = self.http.post(CODE_PATH, data={"code": code, "csrf_token": csrf_token(page.text)})
            elif path == TERMS_PATH and page.status_code == 200:
                response = self.http.post(TERMS_PATH, data={"decision": "accept", "csrf_token": csrf_token(page.text)})
            elif path == "/signin/consent" and page.status_code == 200:
                self.consent_pages += 1
                response = self.http.post("/signin/consent", data={"decision": consent, "csrf_token": csrf_token(page.text)})
            else:
                response = page
        raise AssertionError("redirect loop")


def token_request(http, client: RegisteredClient, data: dict[str, str], auth: str = "basic"):
    if auth == "basic":
        raw = f"{client.client_id}:{client.client_secret}".encode()
        return http.post("/token", data=data, headers={"Authorization": "Basic " + base64.b64encode(raw).decode(), "Accept": "application/json"})
    return http.post("/token", data={**data, "client_id": client.client_id, "client_secret": client.client_secret})


def verify_id_token(http, id_token: str, client: RegisteredClient, nonce: str | None, now: int) -> dict:
    """§2.1: signature with a kid'ed JWKS key, iss, aud, exp/iat fresh, nonce, no nulls."""
    header = jws.extract_compact(id_token.encode()).protected
    jwks = http.get("/jwks").get_json()
    assert all(key.get("kid") and not {"d", "p", "q", "k"} & set(key) for key in jwks["keys"])
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    claims = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[header["alg"]]).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == client.client_id or client.client_id in claims["aud"]
    assert now - 300 <= claims["iat"] <= now + 300 and claims["exp"] > now - 300
    assert None not in claims.values()
    if nonce is None:
        assert "nonce" not in claims
    else:
        assert claims["nonce"] == nonce
    assert 0 < len(claims["sub"]) <= 255 and all(0x20 <= ord(c) <= 0x7E for c in claims["sub"])
    if "acr" in claims:
        assert isinstance(claims["acr"], str) and claims["acr"]
    return claims


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
