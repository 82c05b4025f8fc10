"""What the console refuses (issue 16). The views turn each into a translated message."""

from __future__ import annotations


class ConsoleError(Exception):
    """Base class of the console's refusals."""


class UnknownRole(ConsoleError):
    """Not one of ROLES."""


class UnknownPerson(ConsoleError):
    """No account with that id or address."""


class NotAllowed(ConsoleError):
    """The agent's role does not allow this (a service-desk agent and an operator-only page)."""


class OwnAccount(ConsoleError):
    """An agent acting on their own account: another agent must."""


class ReasonRequired(ConsoleError):
    """Every change to a person needs the reason the agent typed."""


class VerificationRequired(ConsoleError):
    """Resetting two-factor needs how the person's identity was verified, and a note."""


class NothingToDo(ConsoleError):
    """The person is not in the state the action needs (already enabled, nothing to reset,
    not pending, not locked): another agent may just have done it."""


class BadFilter(ConsoleError):
    """An audit log filter the console cannot apply: field names the form field, problem
    one of "no_account", "unknown_event", "bad_time", "empty_range", "bad_page"."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
