"""Why a report action is refused: each becomes a translated message or page (reports/views.py)."""

from __future__ import annotations

from collections.abc import Sequence

from clients.institution_portal.reports.rows import Problem


class ReportError(Exception):
    """A report action that cannot be done."""


class ReportNotFound(ReportError):
    """No report (version, row) with that id in the person's institution: a 404, whether it
    does not exist or belongs to another institution."""


class PeriodNotFound(ReportError):
    """No reporting period with that id for the person's institution."""


class StaleReport(ReportError):
    """The form was built from an older revision: someone else changed (or submitted) the
    report since. Nothing is saved; the form is shown again with what the person typed."""

    def __init__(self, current_revision: int, submitted: bool):
        super().__init__(current_revision)
        self.current_revision = current_revision
        self.submitted = submitted


class NotADraft(ReportError):
    """The report is submitted: it changes only through a correction."""


class CorrectionWindowClosed(ReportError):
    """The correction window (PORTAL_REPORT_CORRECTION_DAYS after the first submission) ended."""


class NotPrimary(ReportError):
    """Only the institution's primary user submits a report or its corrections."""


class TooManyRows(ReportError):
    """The draft already holds PORTAL_REPORT_MAX_ROWS students."""


class RowInvalid(ReportError):
    """A row from the form failed its checks."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__([problem.code for problem in problems])
        self.problems = list(problems)


class UploadInvalid(ReportError):
    """A CSV file had problems: nothing was saved. `problems` are (line, Problem), line 0
    meaning the file as a whole."""

    def __init__(self, problems: Sequence[tuple[int, Problem]]):
        super().__init__(len(problems))
        self.problems = list(problems)
