"""Imports every feature's models so the metadata (create_all, Alembic) sees all tables."""

from idp.accounts.models import User  # noqa: F401
from idp.oidc.models import (  # noqa: F401
    AuthorizationCode,
    Client,
    ClientAssertionJti,
    Consent,
    SigningKey,
    Token,
)
from idp.signin.models import SigninTransaction, UserSession  # noqa: F401
