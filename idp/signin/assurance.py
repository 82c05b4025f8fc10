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

# Lowest to highest. Issue 4 adds the two-factor levels above these.
ACR_PASSWORD = "urn:passerelle:acr:pwd"  # a password alone
ACR_PASSWORD_EMAIL = "urn:passerelle:acr:pwd-email"  # a password and a code sent by email
ACR_VALUES_SUPPORTED = (ACR_PASSWORD, ACR_PASSWORD_EMAIL)


def acr_for(amr: Iterable[str]) -> str:
    """The assurance level a session with these methods reached."""
    methods = set(amr)
    if AMR_PASSWORD in methods and AMR_EMAIL in methods:
        return ACR_PASSWORD_EMAIL
    return ACR_PASSWORD
