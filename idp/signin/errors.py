"""Why a sign-in step was refused. Views map each class to a translated message."""


class SigninError(Exception):
    """Base class of the sign-in feature's domain errors."""


class InvalidCredentials(SigninError):
    """Unknown address, wrong password or disabled account: deliberately one error (ENUM-01)."""


class StepNotAllowed(SigninError):
    """A step was attempted out of order, e.g. consent before authentication (VAL-05)."""
