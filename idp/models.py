"""Imports every feature's models so the metadata (create_all, Alembic) sees all tables."""

from idp.accounts.models import UnlockLink, User  # noqa: F401
from idp.audit import SecurityEvent  # noqa: F401
from idp.invitations.models import Invitation  # noqa: F401
from idp.logout.models import LogoutAttempt, LogoutDelivery, SessionClient  # noqa: F401
from idp.mail.models import OutboxMessage  # noqa: F401
from idp.orgs.models import ChangeRequest, Membership, Organization  # noqa: F401
from idp.oidc.models import (  # noqa: F401
    AuthorizationCode,
    Client,
    ClientAssertionJti,
    Consent,
    SigningKey,
    Token,
)
from idp.signin.models import SigninTransaction, UserSession  # noqa: F401
from idp.recovery.models import PasswordReset  # noqa: F401
from idp.mfa.models import EmailCode  # noqa: F401
from idp.terms.models import TermsAcceptance, TermsVersion  # noqa: F401
from idp.registration.models import Registration  # noqa: F401
from idp.robot.models import SpentRobotChallenge  # noqa: F401
from idp.federation.models import PartnerLink, PartnerRequest  # noqa: F401
from idp.console.models import AccountRole, ConsoleKeyUse, ConsoleSecretDisplay  # noqa: F401
