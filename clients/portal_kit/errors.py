"""Why a sign-in through Passerelle did not give a portal a verified ID token (signin.py).
Each portal turns them into its own translated pages and adds its own refusals."""

from __future__ import annotations


class SigninError(Exception):
    """A sign-in that did not give the portal a person it can let in."""


class ProviderError(SigninError):
    """Passerelle answered with an OAuth error (access_denied, …) instead of a code."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class BadState(SigninError):
    """The response does not belong to a sign-in this browser started (or it was used)."""


class WrongIssuer(SigninError):
    """The response names another issuer than the portal's Passerelle (RFC 9207)."""


class InvalidIdToken(SigninError):
    """The ID token is missing, unsigned by Passerelle, for another client, expired, or replayed."""


class ProviderUnavailable(SigninError):
    """Passerelle could not be reached or answered something unreadable."""
