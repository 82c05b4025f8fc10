"""Who may enter the console and when the key must be asked again (issue 16, Access).

Entering needs a session whose last factor was a security key or passkey (acr mfa-phr,
idp.signin.assurance) used less than CONSOLE_KEY_MAX_AGE ago. The console then keeps its
own session, shorter than the IdP's: a signed cookie bound to the IdP session (it ends with
it, and with every new sign-in or step-up), at most CONSOLE_SESSION_MAX_AGE long and
CONSOLE_SESSION_IDLE_TIMEOUT idle. A destructive action needs a key use less than
CONSOLE_CONFIRM_MAX_AGE old that no earlier action spent (one key touch, one action: the
spent uses are rows of console_key_uses, so no replayed cookie or racing request reuses one).
No Flask here: idp.console.web reads and writes the cookie.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.console.models import ConsoleKeyUse
from idp.signin.assurance import ACR_MFA_PHISHING_RESISTANT
from idp.signin.models import UserSession

COOKIE_SALT = "passerelle console session v1"


@dataclass(frozen=True)
class ConsoleSession:
    """The console's own session: which IdP session it belongs to, when it started, and
    when a console page was last seen."""

    session_id: int
    started_at: float
    seen_at: float

    def seen(self, now: datetime) -> ConsoleSession:
        return replace(self, seen_at=now.timestamp())


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
            console = ConsoleSession(int(data["s"]), float(data["t"]), float(data["l"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        stamp = now.timestamp()
        if (console.session_id != user_session.id
                or stamp - console.started_at > int(self.settings.CONSOLE_SESSION_MAX_AGE)
                or stamp - console.seen_at > int(self.settings.CONSOLE_SESSION_IDLE_TIMEOUT)):
            return None
        return console

    def write(self, console: ConsoleSession) -> str:
        return self.serializer.dumps({"s": console.session_id, "t": console.started_at, "l": console.seen_at})

    def start(self, user_session: UserSession, now: datetime) -> ConsoleSession | None:
        """A new console session when the key is recent enough (CONSOLE_KEY_MAX_AGE)."""
        if not has_recent_key(user_session, now, self.settings.CONSOLE_KEY_MAX_AGE):
            return None
        return ConsoleSession(user_session.id, now.timestamp(), now.timestamp())

    def has_fresh_key(self, user_session: UserSession, now: datetime) -> bool:
        """The key was used recently enough to confirm a destructive action
        (CONSOLE_CONFIRM_MAX_AGE); KeyUses says whether an action already spent it."""
        return has_recent_key(user_session, now, self.settings.CONSOLE_CONFIRM_MAX_AGE)


class KeyUses:
    """The key uses destructive actions spent: one per IdP session (a step-up makes a new
    session, so each key touch is a new one)."""

    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def is_spent(self, session_id: int) -> bool:
        return self.session.scalar(select(ConsoleKeyUse.id).where(ConsoleKeyUse.session_id == session_id)) is not None

    def spend(self, session_id: int) -> bool:
        """Record that this session's key use confirmed an action; False if another action
        (a racing request) already spent it: the caller rolls back and asks for the key."""
        try:
            with self.session.begin_nested():
                self.session.add(ConsoleKeyUse(session_id=session_id, used_at=self.clock()))
        except IntegrityError:
            return False
        return True
