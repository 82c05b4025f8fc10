"""Relying parties in the console (issue 16), operators only: list, show, register, edit,
rotate the secret with an overlap, disable / enable, delete, and the initial access tokens
of dynamic registration. Every rule a registration keeps is ClientService's and
client_rules.py's (the same as `idp clients`); this module adds the operator check, the
reason and one audit event per action, naming the agent and the client, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.console.actions import checked_reason
from idp.console.errors import NothingToDo
from idp.console.roles import Agent
from idp.oidc.client_secrets import is_overlap_running
from idp.oidc.clients import ClientService
from idp.oidc.models import Client, InitialAccessToken
from idp.oidc.registration import RegistrationService

DISABLE, ENABLE, DELETE = "disable", "enable", "delete"
# What the edit page may change, as ClientService.update's keywords (the CLI's options).
POLICY_FIELDS = (
    "scope", "require_consent", "min_acr", "require_pkce", "require_pushed_authorization_requests",
    "dpop_bound_access_tokens", "dpop_require_nonce", "require_signed_request_object",
    "allow_unsigned_request_objects", "initiate_login_uri", "backchannel_logout_uri",
    "backchannel_logout_session_required", "frontchannel_logout_uri", "frontchannel_logout_session_required",
    "jwks_uri",
)
REGISTRATION_FIELDS = ("name", "redirect_uris", "post_logout_redirect_uris")


@dataclass(frozen=True)
class ClientRow:
    """What the pages show of a client: never its secret nor a hash."""

    client_id: str
    name: str
    state: str  # "active" or "disabled"
    grant_types: tuple[str, ...]
    auth_method: str
    updated_at: datetime
    record: Client  # for the details page (read only)
    previous_secret_until: datetime | None = None  # the overlap of the last rotation, while it runs

    @property
    def has_secret(self) -> bool:
        return self.auth_method not in ("none", "private_key_jwt")


class ConsoleClients:
    def __init__(self, session: Session, clock: Clock, clients: ClientService, registration: RegistrationService):
        self.session = session
        self.clock = clock
        self.clients = clients
        self.registration = registration

    def _row(self, client: Client) -> ClientRow:
        until = client.previous_secret_expires_at if is_overlap_running(
            client.previous_secret_hash, client.previous_secret_expires_at, self.clock()) else None
        return ClientRow(client.client_id, client.name, "disabled" if client.disabled_at else "active",
                         tuple(client.grant_types or ()), client.token_endpoint_auth_method, client.updated_at,
                         client, until)

    def _record(self, tag: EventTag, agent: Agent, client: Client | None, reason: str, **details: Any) -> None:
        if client is not None:
            details.update(client_id=client.client_id, client_name=client.name)
        record_event(self.session, self.clock, tag, agent_id=agent.user_id, reason=reason, **details)

    def list(self, agent: Agent) -> list[ClientRow]:
        """Every client, most recently changed first. Raises NotAllowed."""
        agent.require_operator()
        return sorted((self._row(client) for client in self.clients.list()), key=lambda row: row.updated_at,
                      reverse=True)

    def show(self, agent: Agent, client_id: str) -> ClientRow:
        """Raises NotAllowed, ClientNotFound."""
        agent.require_operator()
        return self._row(self.clients.get(client_id))

    def create(self, agent: Agent, reason: str | None, fields: Mapping[str, Any]) -> tuple[ClientRow, str | None]:
        """Register a client through ClientService.create (the rules of `idp clients create`).
        Returns the row and the plain secret, which only the result page shows. Raises
        NotAllowed, ReasonRequired, InvalidClientMetadata (the caller rolls back)."""
        agent.require_operator()
        reason = checked_reason(reason)
        client, plain_secret = self.clients.create(**fields)
        self._record(EventTag.CONSOLE_CLIENT_CREATED, agent, client, reason,
                     auth_method=client.token_endpoint_auth_method, grant_types=list(client.grant_types))
        return self._row(client), plain_secret

    def edit(self, agent: Agent, client_id: str, reason: str | None, registration: Mapping[str, Any],
             policies: Mapping[str, Any], profile: str | None) -> list[str]:
        """Change the name, redirect URIs and the policies (ClientService.replace_registration
        and update, as RFC 7592 and `idp clients update` do). Only values that differ are
        passed on. Returns the names of the fields changed. Raises NotAllowed,
        ReasonRequired, ClientNotFound, InvalidClientMetadata, NothingToDo (no change)."""
        agent.require_operator()
        reason = checked_reason(reason)
        client = self.clients.get(client_id)
        changed = [name for name in REGISTRATION_FIELDS if registration[name] != _current(client, name)]
        changes = {name: value for name, value in policies.items() if value != _current(client, name)}
        if profile != client.profile:
            changes["profile"] = profile or "none"
        if not changed and not changes:
            raise NothingToDo
        if changed:
            self.clients.replace_registration(client_id, **registration)
        if changes:
            self.clients.update(client_id, **{name: "" if value is None else value for name, value in changes.items()})
        fields = changed + sorted(changes)
        self._record(EventTag.CONSOLE_CLIENT_UPDATED, agent, client, reason, fields=fields)
        return fields

    def rotate_secret(self, agent: Agent, client_id: str, overlap: timedelta, reason: str | None) -> tuple[str, datetime | None]:
        """A new secret (shown once by the caller); the old one works for `overlap` more.
        Returns (plain secret, when the old one stops or None). Raises NotAllowed,
        ReasonRequired, ClientNotFound, InvalidClientMetadata."""
        agent.require_operator()
        reason = checked_reason(reason)
        plain_secret = self.clients.rotate_secret(client_id, overlap)
        client = self.clients.get(client_id)
        self._record(EventTag.CONSOLE_CLIENT_SECRET_ROTATED, agent, client, reason,
                     overlap_seconds=int(overlap.total_seconds()),
                     previous_secret_expires_at=client.previous_secret_expires_at.isoformat()
                     if client.previous_secret_expires_at else None)
        return plain_secret, client.previous_secret_expires_at

    def change_state(self, agent: Agent, client_id: str, action: str, reason: str | None) -> None:
        """Disable (unknown to every endpoint, everything issued to it ends), enable, or
        delete (the row and everything issued to it go). Raises NotAllowed, ReasonRequired,
        ClientNotFound, NothingToDo (already in that state: another operator was first)."""
        agent.require_operator()
        reason = checked_reason(reason)
        client = self.clients.get(client_id)
        if action == DELETE:
            self._record(EventTag.CONSOLE_CLIENT_DELETED, agent, client, reason)
            self.clients.delete(client_id)
            return
        method, tag = ((self.clients.disable, EventTag.CONSOLE_CLIENT_DISABLED) if action == DISABLE
                       else (self.clients.enable, EventTag.CONSOLE_CLIENT_ENABLED))
        if not method(client_id):
            raise NothingToDo
        self._record(tag, agent, client, reason)

    # Initial access tokens (dynamic registration, RFC 7591 §3) ------------------------------

    def initial_tokens(self, agent: Agent) -> list[InitialAccessToken]:
        """Tokens that may still register a client, without their values (never kept)."""
        agent.require_operator()
        return self.registration.unused_initial_tokens()

    def initial_token(self, agent: Agent, token_id: int) -> InitialAccessToken | None:
        """One token's record (used, revoked or expired too), never its value."""
        agent.require_operator()
        return self.session.get(InitialAccessToken, token_id)

    def issue_initial_token(self, agent: Agent, expires_in: timedelta, reason: str | None) -> tuple[str, InitialAccessToken]:
        """The service behind `idp clients initial-token`. Returns (plain token, shown once;
        record). Raises NotAllowed, ReasonRequired, InvalidClientMetadata."""
        agent.require_operator()
        reason = checked_reason(reason)
        plain, record = self.registration.issue_initial_token(expires_in)
        self._record(EventTag.CONSOLE_INITIAL_TOKEN_ISSUED, agent, None, reason, token_id=record.id,
                     expires_at=record.expires_at.isoformat())
        return plain, record

    def revoke_initial_token(self, agent: Agent, token_id: int, reason: str | None) -> None:
        """Raises NotAllowed, ReasonRequired, NothingToDo (used, revoked or expired meanwhile)."""
        agent.require_operator()
        reason = checked_reason(reason)
        if not self.registration.revoke_initial_token(token_id):
            raise NothingToDo
        self._record(EventTag.CONSOLE_INITIAL_TOKEN_REVOKED, agent, None, reason, token_id=token_id)


def _current(client: Client, name: str) -> Any:
    value = getattr(client, name)
    return list(value or ()) if name in ("redirect_uris", "post_logout_redirect_uris") else value
