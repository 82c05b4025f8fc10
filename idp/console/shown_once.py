"""A secret made by a console POST, between that POST and the page it redirects to
(Post/Redirect/Get, docs/console.md): a new relying party's secret, a rotated secret, an
initial access token. Held encrypted, for the IdP session that made it only, and gone at the
first read, so a reload shows it no more. A rotation or a token also keeps the one-time id of
the form that made it (its receipt), so that the same form sent again (a reload of the POST,
a double click) makes nothing: the caller finds the receipt, or loses the insert race on its
unique form_id. Never in a URL, a cookie, a log or an audit event. No Flask here:
idp.console.client_views calls it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.console.models import ConsoleSecretDisplay
from idp.security.encryption import SecretBox

# Long enough for the redirect that follows the POST; a secret nobody came for meanwhile is
# dropped (the operator rotates it, or revokes the token, if it was lost).
HOLD_FOR = timedelta(minutes=10)
# How long a rotation or token form may be sent (its one-time id is signed with a time), and
# so how long its receipt is kept: a form is never older than the receipt it would find.
FORM_LIFETIME = timedelta(hours=1)


class ShownOnce:
    def __init__(self, session: Session, clock: Clock, secret_box: SecretBox):
        self.session = session
        self.clock = clock
        self.secret_box = secret_box

    def hold(self, session_id: int, secret: str, *, client_pk: int | None = None,
             initial_token_pk: int | None = None, form_id: str | None = None) -> None:
        """Keep the secret for one read by this IdP session (and drop stale ones). With a
        form_id, raises IntegrityError at the flush when that form already made one."""
        now = self.clock()
        stale = ConsoleSecretDisplay.created_at < now - HOLD_FOR
        self.session.execute(delete(ConsoleSecretDisplay).where(stale, or_(
            ConsoleSecretDisplay.form_id.is_(None), ConsoleSecretDisplay.created_at < now - FORM_LIFETIME))
            .execution_options(synchronize_session=False))
        self.session.execute(update(ConsoleSecretDisplay).where(stale, ConsoleSecretDisplay.secret_encrypted.is_not(None))
                             .values(secret_encrypted=None).execution_options(synchronize_session=False))
        self.session.add(ConsoleSecretDisplay(
            session_id=session_id, client_pk=client_pk, initial_token_pk=initial_token_pk, form_id=form_id,
            created_at=now, secret_encrypted=self.secret_box.encrypt(secret.encode())))
        self.session.flush()

    def take(self, session_id: int, *, client_pk: int | None = None, initial_token_pk: int | None = None,
             from_form: bool = False) -> str | None:
        """The secret, once: None for another session, after the first read (two racing
        reads: one gets it, the conditional statement decides) or after HOLD_FOR. from_form:
        a rotated secret (its row has a form id) rather than a new client's."""
        held = self.session.scalar(select(ConsoleSecretDisplay).where(
            ConsoleSecretDisplay.session_id == session_id,
            ConsoleSecretDisplay.client_pk == client_pk if client_pk is not None
            else ConsoleSecretDisplay.initial_token_pk == initial_token_pk,
            ConsoleSecretDisplay.form_id.is_not(None) if from_form or initial_token_pk is not None
            else ConsoleSecretDisplay.form_id.is_(None),
            ConsoleSecretDisplay.secret_encrypted.is_not(None)).order_by(ConsoleSecretDisplay.id.desc()).limit(1))
        if held is None:
            return None
        this_one = and_(ConsoleSecretDisplay.id == held.id, ConsoleSecretDisplay.secret_encrypted.is_not(None))
        # A receipt stays (without its secret) for the replays of its form; a registration's row goes.
        statement = (update(ConsoleSecretDisplay).where(this_one).values(secret_encrypted=None)
                     if held.form_id is not None else delete(ConsoleSecretDisplay).where(this_one))
        taken = self.session.execute(statement.execution_options(synchronize_session=False)).rowcount
        self.session.expunge(held)
        if not taken or self.clock() - held.created_at > HOLD_FOR:
            return None
        return self.secret_box.decrypt(held.secret_encrypted).decode()

    def receipt(self, form_id: str) -> ConsoleSecretDisplay | None:
        """What the form with this one-time id made (its client or token), if it made one."""
        return self.session.scalar(select(ConsoleSecretDisplay).where(ConsoleSecretDisplay.form_id == form_id))
