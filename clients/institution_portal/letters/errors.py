"""Why a letter of acceptance cannot be imported or decided."""

from __future__ import annotations


class LetterError(Exception):
    """A letter operation that did not happen."""


class LetterNotFound(LetterError):
    """No such letter in the person's institution (another institution's is not found either)."""


class LetterAlreadyDecided(LetterError):
    """Someone decided the letter already (or the form was stale): nothing changed."""

    def __init__(self, letter=None):
        super().__init__("already decided")
        self.letter = letter


class ReasonRequired(LetterError):
    """A refusal needs a reason."""


class ReasonTooLong(LetterError):
    """The reason is longer than MAX_REASON_LENGTH."""


class UnknownDecision(LetterError):
    """The decision is neither confirm nor refuse."""


class ImportRefused(LetterError):
    """The CSV file has errors: nothing was imported. `problems` lists (line, reason)."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
