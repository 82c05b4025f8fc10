"""Authentication methods (amr, RFC 8176) and the assurance levels (acr) a session reaches.

Later issues add the multi-factor levels; every acr value Passerelle emits is defined here.
"""

from __future__ import annotations

AMR_PASSWORD = "pwd"  # RFC 8176 §2

ACR_PASSWORD = "urn:passerelle:acr:pwd"
