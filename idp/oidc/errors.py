"""Domain errors of client registration (ClientService). The CLI turns them into messages."""

from __future__ import annotations


class ClientError(Exception):
    """Base class: something about a client registration cannot be done."""


class ClientNotFound(ClientError):
    """No client has this client_id."""

    def __init__(self, client_id: str):
        super().__init__(f"no client with client_id {client_id!r}")
        self.client_id = client_id


class InvalidClientMetadata(ClientError):
    """The registration would be unsafe or inconsistent; the message says which field and why.

    Named after the RFC 7591 §3.2.2 error code so an admin API can map it one to one.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SoftwareStatementNotAccepted(ClientError):
    """A registration carried a software statement (RFC 7591 §2.3): out of scope, refused
    with unapproved_software_statement rather than silently ignored."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DPoPError(Exception):
    """A DPoP proof (RFC 9449) cannot be accepted: `error` is invalid_dpop_proof, or
    use_dpop_nonce with the `nonce` the client must put in its next proof (§8)."""

    def __init__(self, description: str, *, error: str = "invalid_dpop_proof", nonce: str | None = None):
        super().__init__(description)
        self.description = description
        self.error = error
        self.nonce = nonce
