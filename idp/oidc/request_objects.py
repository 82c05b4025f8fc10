"""Request objects (JAR, RFC 9101): authorization parameters in a JWT signed by the client.

Authlib's rfc9101.JWTAuthenticationRequest verifies the signature with the client's keys,
checks the algorithms and that `request`/`request_uri` are not nested; Passerelle adds the
claims Authlib leaves out (RFC 9101 §6.3 and §10: `client_id` equal to the client, `iss` the
client and `aud` the issuer for a signed object, `exp` and `nbf` on the injected clock) and
refuses `alg: none` with request_not_supported unless an operator allowed it for the client.
"""

from __future__ import annotations

import json
import warnings

from authlib.oauth2.rfc9101 import JWTAuthenticationRequest
from authlib.oauth2.rfc9101.errors import InvalidRequestObjectError, RequestNotSupportedError
from joserfc import jws, jwt
from joserfc.errors import JoseError, SecurityWarning

from idp.oidc.client_rules import signing_algs_for

# Published as request_object_signing_alg_values_supported; `none` only per client.
SIGNING_ALGS = ["RS256", "PS256", "ES256"]
MAX_REQUEST_OBJECT_LENGTH = 16 * 1024
CLOCK_SKEW = 30  # seconds of leeway for the client's clock
MAX_LIFETIME = 3600  # exp - nbf of a client that must sign (FAPI 2.0 Message Signing §5.3.1)
# Registered JWT claims: about the object, not parameters of the request.
JWT_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "jti", "sub")


class PasserelleRequestObjects(JWTAuthenticationRequest):
    """Authlib's JAR checks with Passerelle's keys, algorithms and claims; one per request."""

    def __init__(self, server, client, *, signed: bool):
        super().__init__(support_request=True, support_request_uri=False)
        self.server = server
        now = int(server.context.clock().timestamp())
        strict = client.require_signed_request_object
        self.claims_validator = jwt.JWTClaimsRegistry(
            now=now, leeway=CLOCK_SKEW,
            client_id={"essential": True, "value": client.client_id},
            iss={"essential": signed, "value": client.client_id},
            aud={"essential": signed, "values": [server.issuer]},
            exp={"essential": strict}, nbf={"essential": strict},
        )

    def resolve_client_public_key(self, client):
        return self.server.client_keys.for_client(client)

    def get_server_metadata(self) -> dict:
        return {"issuer": self.server.issuer, "request_object_signing_alg_values_supported": SIGNING_ALGS}

    def get_request_object_signing_algorithms(self, client):
        algorithms = signing_algs_for(client, SIGNING_ALGS)
        return [*algorithms, "none"] if client.allow_unsigned_request_objects else algorithms

    def get_client_require_signed_request_object(self, client) -> bool:
        return client.require_signed_request_object


def unpack(server, client, oauth_request) -> tuple[dict[str, str], bool]:
    """The authorization parameters in the request object of oauth_request (whose payload
    names `client` and carries `request`), and whether it was signed. Raises OAuth2Error:
    invalid_request_object, request_not_supported (alg none), invalid_request."""
    raw = oauth_request.payload.data.get("request")
    state = oauth_request.payload.state
    if not isinstance(raw, str) or not raw or len(raw) > MAX_REQUEST_OBJECT_LENGTH:
        raise InvalidRequestObjectError(description="The request object is empty or too large.", state=state)
    try:
        alg = jws.extract_compact(raw.encode()).protected.get("alg")
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise InvalidRequestObjectError(description="The request object is not a JWT.", state=state) from None
    if alg == "none" and not client.allow_unsigned_request_objects:
        raise RequestNotSupportedError(description="Unsigned request objects are not accepted from this client: "
                                                   "sign it with a registered key.", state=state)
    signed = alg != "none"
    allowed = signing_algs_for(client, SIGNING_ALGS)
    if signed and alg not in allowed:  # RFC 9101 §6.2: an invalid request object
        raise InvalidRequestObjectError(
            description=f"The request object must be signed with one of {', '.join(allowed)}.", state=state)
    with warnings.catch_warnings():
        # joserfc warns that `none` is deprecated: this client's operator chose to allow it.
        warnings.simplefilter("ignore", SecurityWarning)
        PasserelleRequestObjects(server, client, signed=signed).parse_authorization_request(server, oauth_request)
    claims = oauth_request.payload.data
    if client.require_signed_request_object and not (
            isinstance(claims["exp"], int) and isinstance(claims["nbf"], int)
            and claims["exp"] - claims["nbf"] <= MAX_LIFETIME):
        raise InvalidRequestObjectError(description=f"The request object may live at most {MAX_LIFETIME} seconds.",
                                        state=state)
    return {name: _parameter(value) for name, value in claims.items() if name not in JWT_CLAIMS}, signed


def _parameter(value) -> str:
    """A claim as the authorization parameter it stands for: objects (claims) as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)
