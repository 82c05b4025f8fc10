"""Why a sign-in with a partner, or a linking, did not happen. Views map each class to a
translated message; none of them signs anyone in (issue 5: never a partial sign-in)."""


class FederationError(Exception):
    """Base class of the sign-in partners feature's domain errors."""


class PartnerNotFound(FederationError):
    """No enabled partner has this id."""


class PartnerUnavailable(FederationError):
    """The partner did not answer in time, or answered with a server error: it is down or slow."""


class PartnerRefused(FederationError):
    """The partner sent the person back with an error (they cancelled, or it refused)."""


class RequestNotFound(FederationError):
    """The state is unknown, spent, expired, or belongs to another browser's sign-in."""


class IssuerMismatch(FederationError):
    """The response's `iss` is not the partner's issuer (RFC 9207 §2.4, mix-up defence)."""


class InvalidPartnerResponse(FederationError):
    """The partner's token response or ID token failed a check (signature, iss, aud, azp,
    exp, iat, nonce); the text says which, for the log, never for the page."""


class PartnerAlreadyLinked(FederationError):
    """This person at this partner is already linked to another Passerelle account."""


class LinkNotFound(FederationError):
    """The account has no such link to remove."""


class LastWayToSignIn(FederationError):
    """The link is the only way to sign in to an account without a password."""
