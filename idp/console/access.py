"""Who may enter the console and when the key must be asked again (issue 16, Access).

Entering needs a session whose last factor was a security key or passkey (acr mfa-phr,
idp.signin.assurance) used less than CONSOLE_KEY_MAX_AGE ago. The console then keeps its
own session, shorter than the IdP's: a signed cookie bound to the IdP session (it ends with
it, and with every new sign-in or step-up), at most CONSOLE_SESSION_MAX_AGE long and
CONSOLE_SESSION_IDLE_TIMEOUT idle. A destructive action needs a key use less than
CONSOLE_CONFIRM_MAX_AGE old that no earlier action spent (one key touch, one action).
No Flask here: idp.console.web reads and writes the cookie.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from idp.config import Settings
from idp.signin.assurance import ACR_MFA_PHISHING_RESISTANT
from idp.signin.models import UserSession

COOKIE_SALT = "passerelle console session v1"


@dataclass(frozen=True)
class ConsoleSession:
    """The console's own session: which IdP session it belongs to, when it started, when a
    console page was last seen, and the key use (auth_time) the last action spent."""

    session_id: int
    started_at: float
    seen_at: float
    spent_key_at: float | None = None

    def seen(self, now: datetime) -> ConsoleSession:
        return replace(self, seen_at=now.timestamp())

    def spend(self, user_session: UserSession) -> ConsoleSession:
        return replace(self, spent_key_at=user_session.auth_time.timestamp())


def has_recent_key(user_session: UserSession, now: datetime, max_age: int) -> bool:
    """The session reached mfa-phr and its authentication (the key, last) is recent enough."""
    return (user_session.acr == ACR_MFA_PHISHING_RESISTANT
            and now - user_session.auth_time <= timedelta(seconds=int(max_age)))


class ConsoleAccess:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.serializer = URLSafeSerializer(settings.SECRET_KEY, salt=COOKIE_SALT)

    def read(self, value: str | None, user_session: UserSession, now: datetime) -> ConsoleSession | None:
        """The console session in the cookie if it is live for this IdP session, else None."""
        if not value:
            return None
        try:
            data = self.serializer.loads(value)
            console = ConsoleSession(int(data["s"]), float(data["t"]), float(data["l"]),
                                     float(data["k"]) if data.get("k") is not None else None)
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        stamp = now.timestamp()
        if (console.session_id != user_session.id
                or stamp - console.started_at > int(self.settings.CONSOLE_SESSION_MAX_AGE)
                or stamp - console.seen_at > int(self.settings.CONSOLE_SESSION_IDLE_TIMEOUT)):
            return None
        return console

    def write(self, console: ConsoleSession) -> str:
        return self.serializer.dumps({"s": console.session_id, "t": console.started_at,
                                      "l": console.seen_at, "k": console.spent_key_at})

    def start(self, user_session: UserSession, now: datetime) -> ConsoleSession | None:
        """A new console session when the key is recent enough (CONSOLE_KEY_MAX_AGE)."""
        if not has_recent_key(user_session, now, self.settings.CONSOLE_KEY_MAX_AGE):
            return None
        return ConsoleSession(user_session.id, now.timestamp(), now.timestamp())

    def may_act(self, console: ConsoleSession, user_session: UserSession, now: datetime) -> bool:
        """A destructive action may go ahead: a recent key use that no action spent yet."""
        return (has_recent_key(user_session, now, self.settings.CONSOLE_CONFIRM_MAX_AGE)
                and console.spent_key_at != user_session.auth_time.timestamp())
