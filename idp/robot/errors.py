"""Why a "not a robot" answer was refused. The person sees one message whatever the reason."""

from __future__ import annotations


class RobotError(Exception):
    """Base class of the robot check's domain errors."""


class RobotCheckFailed(RobotError):
    """The answer is missing, malformed, forged, expired or already used.

    reason says which, for logs and tests only: telling a bot why would help it.
    """

    REASONS = ("missing", "malformed", "forged", "expired", "spent")

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
