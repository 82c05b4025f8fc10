"""A new relying party's secret between the registration and the page that shows it
(Post/Redirect/Get, docs/console.md): held encrypted, for the IdP session that registered
the client only, and gone at the first read, so a reload shows it no more. Never in a URL,
a cookie, a log or an audit event. No Flask here: idp.console.client_views calls it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.console.models import ConsoleSecretDisplay
from idp.security.encryption import SecretBox

# Long enough for the redirect that follows the registration; a secret nobody came for
# meanwhile is dropped (the operator rotates it if it was lost).
HOLD_FOR = timedelta(minutes=10)


class ShownOnce:
    def __init__(self, session: Session, clock: Clock, secret_box: SecretBox):
        self.session = session
        self.clock = clock
        self.secret_box = secret_box

    def hold(self, session_id: int, client_pk: int, secret: str) -> None:
        """Keep the secret for one read by this IdP session (and drop stale ones)."""
        now = self.clock()
        self.session.execute(delete(ConsoleSecretDisplay).where(ConsoleSecretDisplay.created_at < now - HOLD_FOR))
        self.session.add(ConsoleSecretDisplay(session_id=session_id, client_pk=client_pk, created_at=now,
                                              secret_encrypted=self.secret_box.encrypt(secret.encode())))
        self.session.flush()

    def take(self, session_id: int, client_pk: int) -> str | None:
        """The secret, once: None for another session, after the first read (two racing
        reads: one gets it, the conditional DELETE decides) or after HOLD_FOR."""
        held = self.session.scalar(select(ConsoleSecretDisplay).where(
            ConsoleSecretDisplay.session_id == session_id, ConsoleSecretDisplay.client_pk == client_pk))
        if held is None:
            return None
        taken = self.session.execute(
            delete(ConsoleSecretDisplay).where(ConsoleSecretDisplay.id == held.id)
            .execution_options(synchronize_session=False)).rowcount
        self.session.expunge(held)
        if not taken or self.clock() - held.created_at > HOLD_FOR:
            return None
        return self.secret_box.decrypt(held.secret_encrypted).decode()
