"""Authentication methods (amr, RFC 8176) and the assurance levels (acr) a session reaches.

Every amr and acr value Passerelle emits is defined here and documented in docs/oidc.md.
amr names what was used; acr names the assurance that results, so relying parties ask for
a level (acr_values) without knowing about credentials.

An emailed code is not an AAL2 authenticator: NIST SP 800-63B §5.1.3.1 forbids email for
out-of-band authentication, since whoever reads the mailbox gets the code. So a password
plus an emailed code gets its own level, below the two-factor levels issue 4 adds for
authenticator apps and security keys, and its own amr value rather than RFC 8176's "otp"
or "mfa", which relying parties read as two-factor.
"""

from __future__ import annotations

from collections.abc import Iterable

AMR_PASSWORD = "pwd"  # RFC 8176 §2
# Not in the RFC 8176 registry (§2 allows other values by agreement): "email" is what other
# providers use for a code sent by email (e.g. Okta), and it does not claim "otp" or "mfa".
AMR_EMAIL = "email"
AMR_OTP = "otp"  # RFC 8176 §2: a one-time password from an authenticator app
AMR_MFA = "mfa"  # RFC 8176 §2: more than one factor, each of a different kind
# RFC 8176 §2: proof of possession of a key in hardware (a security key, a device-bound
# passkey) or in software (a synced passkey: WebAuthn backup eligible). Both are WebAuthn,
# bound to Passerelle's origin: phishing-resistant (NIST SP 800-63B §5.2.5).
AMR_HWK = "hwk"
AMR_SWK = "swk"
# Not in the registry either: a single-use recovery code (a look-up secret, NIST SP 800-63B
# §5.1.2), used when the person lost their method; the sign-in then makes them set one up.
AMR_RECOVERY_CODE = "recovery-code"
# Not in the registry: a sign-in partner (idp/federation, issue 5) proved who the person is,
# as Microsoft Entra ID says for a federated sign-in. With "mfa" when the partner's own
# sign-in was two-factor (its level, mapped by the operator, is ACR_MFA or above).
AMR_FEDERATED = "fed"

# Lowest to highest.
ACR_PASSWORD = "urn:passerelle:acr:pwd"  # a password alone
ACR_PASSWORD_EMAIL = "urn:passerelle:acr:pwd-email"  # a password and a code sent by email
# A password and something the person has (an authenticator app, a recovery code): two
# factors of different kinds, NIST SP 800-63B AAL2.
ACR_MFA = "urn:passerelle:acr:mfa"
# A password and a WebAuthn credential (security key or passkey): phishing-resistant
# two-factor, which a relying party can require for its most sensitive actions.
ACR_MFA_PHISHING_RESISTANT = "urn:passerelle:acr:mfa-phr"
ACR_VALUES_SUPPORTED = (ACR_PASSWORD, ACR_PASSWORD_EMAIL, ACR_MFA, ACR_MFA_PHISHING_RESISTANT)
# Lowest to highest: a session satisfies a requested level when its own is at or above it.
ACR_ORDER = ACR_VALUES_SUPPORTED
_PHISHING_RESISTANT_METHODS = frozenset({AMR_HWK, AMR_SWK})
# Second factors that are something the person has (not a mailbox).
_POSSESSION_METHODS = frozenset({AMR_OTP, AMR_RECOVERY_CODE}) | _PHISHING_RESISTANT_METHODS


def acr_for(amr: Iterable[str]) -> str:
    """The assurance level a session with these methods reached."""
    methods = set(amr)
    # A partner's sign-in is a first factor, as a password is.
    first = AMR_PASSWORD if AMR_PASSWORD in methods else AMR_FEDERATED if AMR_FEDERATED in methods else None
    if first and methods & _PHISHING_RESISTANT_METHODS:
        return ACR_MFA_PHISHING_RESISTANT
    if first and methods & _POSSESSION_METHODS or first == AMR_FEDERATED and AMR_MFA in methods:
        return ACR_MFA
    if AMR_PASSWORD in methods and AMR_EMAIL in methods:
        return ACR_PASSWORD_EMAIL
    return ACR_PASSWORD


def with_mfa(amr: list[str]) -> list[str]:
    """amr plus "mfa" when a possession factor joined the password (RFC 8176 §2)."""
    if acr_for(amr) in (ACR_MFA, ACR_MFA_PHISHING_RESISTANT) and AMR_MFA not in amr:
        return [*amr, AMR_MFA]
    return amr


def satisfies(acr: str | None, required: str | None) -> bool:
    """Does a session at level acr meet the required level? Unknown values meet nothing
    (a required value Passerelle does not know cannot be promised)."""
    if required is None:
        return True
    if acr not in ACR_ORDER or required not in ACR_ORDER:
        return False
    return ACR_ORDER.index(acr) >= ACR_ORDER.index(required)
