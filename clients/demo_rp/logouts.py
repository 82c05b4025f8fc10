"""What the demo relying party learns from Passerelle's back-channel logout tokens (issue
14). Its sessions live in signed cookies it cannot reach, so it remembers which sessions
ended (by `sid`, or every one of a `sub` signed in before the logout) and forgets the
cookie's sign-in at the browser's next request. In memory: a demo runs one process; a real
relying party keeps this, and the seen `jti`s, in its database (clients/portal_kit)."""

from __future__ import annotations

import threading
from datetime import datetime

from clients.portal_kit.backchannel import LogoutClaims


class EndedSessions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sids: set[str] = set()
        self._subs: dict[str, float] = {}  # sub -> when every earlier sign-in ended
        self._jtis: dict[str, datetime] = {}  # seen jti -> when it may be forgotten

    def remember(self, claims: LogoutClaims, now: datetime) -> bool:
        """Record a verified logout token; False if its jti was already used (a replay)."""
        with self._lock:
            for jti, until in list(self._jtis.items()):
                if until <= now:
                    del self._jtis[jti]
            if claims.jti in self._jtis:
                return False
            self._jtis[claims.jti] = max(claims.expires_at, now)
            if claims.sid:
                self._sids.add(claims.sid)
            elif claims.sub:
                self._subs[claims.sub] = now.timestamp()
            return True

    def has_ended(self, id_token_claims: dict) -> bool:
        """Whether the sign-in these ID token claims describe was ended by a logout token."""
        with self._lock:
            if id_token_claims.get("sid") in self._sids:
                return True
            ended_at = self._subs.get(id_token_claims.get("sub"))
            return ended_at is not None and id_token_claims.get("iat", 0) <= ended_at
