"""Signing keys in the console (issue 16), operators only: each key's state and dates, and
a rotation through the same service as `idp keys rotate` (idp.oidc.keys.KeyService), with
the reason the operator typed in the audit event. The rows hold no private material: the
encrypted private key never leaves KeyService."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from idp.audit import EventTag, record_event
from idp.console.actions import checked_reason
from idp.console.roles import Agent
from idp.oidc.keys import KeyService, key_state

# KeyService's states as the console names them (issue 16: next, active, retiring).
STATES = {"published": "next", "signing": "active", "verifying": "retiring", "retired": "retired"}


@dataclass(frozen=True)
class KeyRow:
    kid: str
    alg: str
    state: str  # next, active, retiring, retired
    created_at: datetime
    activates_at: datetime
    superseded_at: datetime | None
    retire_after: datetime | None


class ConsoleKeys:
    def __init__(self, keys: KeyService):
        self.keys = keys

    def list(self, agent: Agent) -> list[KeyRow]:
        """Every key, newest first within each algorithm. Raises NotAllowed."""
        agent.require_operator()
        now = self.keys.clock()
        rows = [self._row(key, now) for key in self.keys.list()]
        return sorted(rows, key=lambda row: (row.alg, -row.created_at.timestamp()))

    def rotate(self, agent: Agent, reason: str | None, *, immediately: bool = False) -> list[KeyRow]:
        """Publish a new key per algorithm, as `idp keys rotate` (with --now when immediately:
        it signs at once). Raises NotAllowed, ReasonRequired."""
        agent.require_operator()
        reason = checked_reason(reason)
        created = self.keys.rotate(publish_ahead=0 if immediately else None)
        record_event(self.keys.session, self.keys.clock, EventTag.CONSOLE_KEYS_ROTATED, user_id=agent.user_id,
                     agent_id=agent.user_id, reason=reason, immediately=immediately,
                     kids=[key.kid for key in created])
        now = self.keys.clock()
        return [self._row(key, now) for key in created]

    @staticmethod
    def _row(key, now: datetime) -> KeyRow:
        return KeyRow(key.kid, key.alg, STATES[key_state(key, now)], key.created_at, key.activates_at,
                      key.superseded_at, key.retire_after)
