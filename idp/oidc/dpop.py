"""DPoP (RFC 9449): proofs that the client holds a key, and tokens bound to that key.

A client sends a proof, a JWT it signed with its key, in the `DPoP` header of each request:
at the token endpoint Passerelle then binds the access token to the key's RFC 7638
thumbprint (`cnf.jkt`, token_type `DPoP`) and, for a public client, the refresh token too;
UserInfo then wants `Authorization: DPoP <token>` with a proof by the same key carrying the
token's hash (`ath`). Checks (§4.3): `typ: dpop+jwt`, an allowed asymmetric `alg`, a public
`jwk` in the header that verifies the signature (joserfc), `htm` and `htu` naming this
request (the issuer's URL, never the Host header; query and fragment ignored), `iat`
within OIDC_DPOP_PROOF_MAX_AGE / OIDC_DPOP_CLOCK_SKEW of the injected clock, a `jti` never
seen before on any host (table dpop_proof_jtis, pruned by `idp worker`), and a nonce from
Passerelle when OIDC_DPOP_REQUIRE_NONCE or the client asks for one (§8). Nonces are
stateless: a keyed hash of a time period, good on every host for one to two periods.

No Flask here: the views and Authlib grants hand in the header, method and URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwk, jws
from joserfc.errors import JoseError, SecurityWarning
from sqlalchemy.exc import IntegrityError

from idp.oidc.client_rules import signing_algs_for
from idp.oidc.errors import DPoPError
from idp.oidc.models import DPoPProofJti
from idp.oidc.token_queries import FoundToken

# Published as dpop_signing_alg_values_supported: asymmetric only, never `none` or HMAC.
# EdDSA is RFC 8037's name, Ed25519 RFC 9864's fully specified one for the same signatures.
SIGNING_ALGS = ("ES256", "PS256", "RS256", "EdDSA", "Ed25519")
PROOF_TYPE = "dpop+jwt"
MAX_PROOF_LENGTH = 8 * 1024
MAX_JTI_LENGTH = 256
MIN_RSA_BITS = 2048
# Members only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
PRIVATE_MEMBERS = frozenset(("d", "p", "q", "dp", "dq", "qi", "oth", "k"))
KEY_TYPES = frozenset(("EC", "RSA", "OKP"))
DEFAULT_PORTS = {"https": 443, "http": 80}
INSERT_JTI = DPoPProofJti.__table__.insert()  # built once: no per-request compilation


class ProofRegistry(jws.JWSRegistry):
    """joserfc's checks with room for the key in the header (an RSA key is over 512 bytes,
    joserfc's default limit) and without refusing header members RFC 9449 does not forbid."""

    max_header_length = 4096


REGISTRY = ProofRegistry(algorithms=SIGNING_ALGS, strict_check_header=False)


@dataclass(frozen=True, slots=True)
class Proof:
    """A verified proof: the thumbprint of its key and what made it unique."""

    jkt: str
    jti: str
    iat: int


def proof_header(headers) -> str | None:
    """The request's one `DPoP` header, or None; several is invalid (RFC 9449 §4.3 item 1)."""
    values = headers.getlist("DPoP") if hasattr(headers, "getlist") else [v for v in [headers.get("DPoP")] if v]
    if len(values) > 1:
        raise DPoPError("Send one DPoP header, not several.")
    return values[0] if values else None


def access_token_hash(access_token: str) -> str:
    """`ath` (RFC 9449 §4.2): the base64url SHA-256 of the access token's ASCII."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def normalized_url(url) -> tuple[str, str, str] | None:
    """Scheme, host[:port] and path of an http(s) URL, lower-cased where URLs are case
    insensitive and without a default port, query or fragment (RFC 9449 §4.3 item 9,
    RFC 3986 §6.2.2-6.2.3); None when it is no such URL."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    netloc = parts.hostname.lower() if port in (None, DEFAULT_PORTS[scheme]) else f"{parts.hostname.lower()}:{port}"
    return scheme, netloc, parts.path or "/"


def algorithms_for(client) -> list[str]:
    """What this client's DPoP proofs may be signed with (a fapi2 client: PS256 or ES256);
    every supported algorithm when the client is unknown."""
    return signing_algs_for(client, SIGNING_ALGS) if client is not None else list(SIGNING_ALGS)


class DPoPVerifier:
    """Checks proofs and makes nonces; one per request (session, settings, clock, hasher)."""

    def __init__(self, session, settings, clock, hasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher

    def verify(self, raw: str, *, method: str, url: str, access_token: str | None = None,
               require_nonce: bool = False, algorithms: Sequence[str] = SIGNING_ALGS) -> Proof:
        """The verified proof `raw` for a `method` request to `url` (with `access_token` at a
        resource: its `ath` must match), signed with one of `algorithms` (the client's:
        algorithms_for). Raises DPoPError; the proof's jti is spent last."""
        claims, key = self._verified_jwt(raw, algorithms)
        if claims.get("htm") != method:
            raise DPoPError("The DPoP proof is for another HTTP method ('htm').")
        expected = normalized_url(url)
        if expected is None or normalized_url(claims.get("htu")) != expected:
            raise DPoPError("The DPoP proof is for another URL ('htu').")
        jti, iat = claims.get("jti"), claims.get("iat")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise DPoPError("The DPoP proof needs a 'jti' of at most 256 characters.")
        if not isinstance(iat, int | float) or isinstance(iat, bool) or not math.isfinite(iat):
            raise DPoPError("The DPoP proof needs a numeric 'iat'.")
        now = self.clock().timestamp()
        if iat < now - self.settings.OIDC_DPOP_PROOF_MAX_AGE:
            raise DPoPError("The DPoP proof is too old: make a new one ('iat').")
        if iat > now + self.settings.OIDC_DPOP_CLOCK_SKEW:
            raise DPoPError("The DPoP proof is issued in the future ('iat').")
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not hmac.compare_digest(ath, access_token_hash(access_token)):
                raise DPoPError("The DPoP proof must carry the access token's hash ('ath').")
        if require_nonce or self.settings.OIDC_DPOP_REQUIRE_NONCE:
            nonce = claims.get("nonce")
            if not isinstance(nonce, str) or not self.nonce_is_current(nonce):
                raise DPoPError("Put the nonce of the DPoP-Nonce header in the DPoP proof.",
                                error="use_dpop_nonce", nonce=self.nonce())
        proof = Proof(jkt=key.thumbprint(), jti=jti, iat=int(iat))
        if not self._spend(proof):
            raise DPoPError("This DPoP proof was already used: make a new one for each request ('jti').")
        return proof

    # Nonces (RFC 9449 §8): the period's number and its keyed hash -------------------------------

    def nonce(self) -> str:
        return self._nonce_for(self._period())

    def nonce_is_current(self, value: str) -> bool:
        period, _, _ = value.partition(".")
        if not period.isdigit() or len(value) > 64:
            return False
        number = int(period)
        return number in (self._period(), self._period() - 1) and hmac.compare_digest(value, self._nonce_for(number))

    def _period(self) -> int:
        return int(self.clock().timestamp()) // max(1, int(self.settings.OIDC_DPOP_NONCE_LIFETIME))

    def _nonce_for(self, period: int) -> str:
        return f"{period}.{self.hasher.hash('dpop_nonce', str(period))[:32]}"

    # Internals -------------------------------------------------------------------------------

    def _verified_jwt(self, raw, algorithms: Sequence[str]) -> tuple[dict, jwk.Key]:
        """Claims and public key of a proof whose header and signature check out."""
        if not isinstance(raw, str) or not raw or len(raw) > MAX_PROOF_LENGTH:
            raise DPoPError("The DPoP proof is missing, empty or too large.")
        try:
            token = jws.extract_compact(raw.encode("ascii"), registry=REGISTRY)
            header = token.protected
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise DPoPError("The DPoP proof is not a JWT.") from None
        if not isinstance(header, dict) or str(header.get("typ", "")).lower() != PROOF_TYPE:
            raise DPoPError("The DPoP proof must have 'typ: dpop+jwt'.")
        alg = header.get("alg")
        if alg not in SIGNING_ALGS or alg not in algorithms:
            raise DPoPError(f"The DPoP proof must be signed with one of {', '.join(algorithms)}.")
        key_data = header.get("jwk")
        if not isinstance(key_data, dict) or key_data.get("kty") not in KEY_TYPES:
            raise DPoPError("The DPoP proof must carry the client's public key ('jwk').")
        if PRIVATE_MEMBERS & key_data.keys():
            raise DPoPError("The DPoP proof's 'jwk' must be a public key: never send the private key.")
        try:
            with warnings.catch_warnings():
                # joserfc warns of EdDSA (renamed Ed25519 by RFC 9864: the same signature) and
                # of small RSA keys, refused below.
                warnings.simplefilter("ignore", SecurityWarning)
                key = jwk.import_key(key_data)
                if key.is_private:
                    raise DPoPError("The DPoP proof's 'jwk' must be a public key: never send the private key.")
                if key.key_type == "RSA" and key.raw_value.key_size < MIN_RSA_BITS:
                    raise DPoPError(f"The DPoP proof's RSA key must have at least {MIN_RSA_BITS} bits.")
                if not jws.validate_compact(token, key, registry=REGISTRY):
                    raise DPoPError("The DPoP proof's signature does not verify with its 'jwk'.")
            claims = json.loads(token.payload)
        except DPoPError:
            raise
        except (JoseError, ValueError, TypeError, KeyError, AttributeError, UnicodeError):
            raise DPoPError("The DPoP proof's signature does not verify with its 'jwk'.") from None
        if not isinstance(claims, dict):
            raise DPoPError("The DPoP proof's claims must be a JSON object.")
        return claims, key

    def _spend(self, proof: Proof) -> bool:
        """Record the proof's jti (per key) until its iat leaves the window; False when any
        host saw it before. One INSERT in a savepoint: the unique hash decides."""
        expires_at = datetime.fromtimestamp(proof.iat, UTC) + timedelta(
            seconds=self.settings.OIDC_DPOP_PROOF_MAX_AGE + self.settings.OIDC_DPOP_CLOCK_SKEW)
        try:
            with self.session.begin_nested():
                self.session.connection().execute(INSERT_JTI, {
                    "jti_hash": self.hasher.hash("dpop_jti", f"{proof.jkt}:{proof.jti}"),
                    "expires_at": expires_at,
                })
        except IntegrityError:
            return False
        return True


# At the token endpoint (Authlib grants) --------------------------------------------------------

class DPoPTokenError(OAuth2Error):
    """A DPoPError as the token endpoint's answer: 400 with the error code, and the nonce to
    use in a DPoP-Nonce header (RFC 9449 §5.2, §8)."""

    status_code = 400

    def __init__(self, problem: DPoPError):
        super().__init__(description=problem.description)
        self.error = problem.error
        self.nonce = problem.nonce

    def get_headers(self):
        headers = super().get_headers()
        return [*headers, ("DPoP-Nonce", self.nonce)] if self.nonce else headers


class DPoPBinding:
    """Grant extension: checks the token request's proof before anything is spent or issued,
    and leaves its key's thumbprint in `request.dpop_jkt` for TokenService.issue to bind.

    A client registered with dpop_bound_access_tokens must send a proof; a public client's
    refresh token bound to a key is refused with a proof by any other key, or none (§5)."""

    def __call__(self, grant):
        grant.register_hook("before_create_token_response", self.check)

    def check(self, grant):
        request, client = grant.request, grant.request.client
        parent = request.refresh_token if isinstance(request.refresh_token, FoundToken) else None
        bound_refresh = parent is not None and parent.dpop_jkt is not None and client.is_public
        try:
            raw = proof_header(request.headers)
            if raw is None:
                if client.dpop_bound_access_tokens or bound_refresh:
                    raise DPoPError("This client must send a DPoP proof (the DPoP header) with each token request.")
                request.dpop_jkt = None
                return
            proof = grant.server.dpop().verify(raw, method=request.method, url=request.uri,
                                               require_nonce=client.dpop_require_nonce,
                                               algorithms=algorithms_for(client))
            if bound_refresh and not hmac.compare_digest(proof.jkt, parent.dpop_jkt):
                raise DPoPError("The refresh token is bound to another key: sign the DPoP proof with it.")
        except DPoPError as problem:
            raise DPoPTokenError(problem) from None
        request.dpop_jkt = proof.jkt


def bound_key(oauth_request) -> str | None:
    """The thumbprint DPoPBinding checked for this token request, if any."""
    return getattr(oauth_request, "dpop_jkt", None)
