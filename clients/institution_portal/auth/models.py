"""The logout tokens Passerelle sent that the portal has already used (issue 14)."""

from __future__ import annotations

from clients.institution_portal.db import Base
from clients.portal_kit.backchannel import SeenLogoutTokenColumns


class SeenLogoutToken(SeenLogoutTokenColumns, Base):
    """A back-channel logout token's jti (hashed), kept until it expires: a replay is refused."""
