"""Which reporting period a date falls in, from the settings alone: no database, no Flask.

A season opens on PORTAL_PERIOD_OPENING_DAY of each month in PORTAL_PERIOD_MONTHS and the
report is due PORTAL_PERIOD_DAYS days later, that day included (1 April + 60 days =
31 May; 1 November + 60 days = 31 December). A season is named by its opening month,
"2026-11", so a period that runs into January still belongs to its November.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from clients.institution_portal.config import Settings


@dataclass(frozen=True)
class Season:
    key: str
    opens_on: date
    due_on: date

    def contains(self, day: date) -> bool:
        return self.opens_on <= day <= self.due_on

    def days_left(self, day: date) -> int:
        """Days from `day` to the deadline, 0 on the deadline itself."""
        return (self.due_on - day).days


def season(settings: Settings, year: int, month: int) -> Season:
    opens_on = date(year, month, settings.PORTAL_PERIOD_OPENING_DAY)
    return Season(key=f"{year:04d}-{month:02d}", opens_on=opens_on,
                  due_on=opens_on + timedelta(days=settings.PORTAL_PERIOD_DAYS))


def _around(settings: Settings, day: date) -> list[Season]:
    """The seasons that open in the year before, the year of, and the year after `day`."""
    return [season(settings, year, month) for year in (day.year - 1, day.year, day.year + 1)
            for month in settings.PORTAL_PERIOD_MONTHS]


def current_season(settings: Settings, day: date) -> Season | None:
    """The season whose window holds `day`, or None between two of them (settings
    validation ensures windows never overlap)."""
    return next((found for found in _around(settings, day) if found.contains(day)), None)


def next_season(settings: Settings, day: date) -> Season:
    """The first season that opens after `day`."""
    return next(found for found in _around(settings, day) if found.opens_on > day)


def is_exempt(settings: Settings, province: str | None) -> bool:
    return province is not None and province in settings.PORTAL_EXEMPT_PROVINCES


def reminder_due(settings: Settings, due_on: date, day: date, opened_notice_on: date) -> int | None:
    """Which reminder (its number of days before the deadline) is due on `day`, or None.

    Only the nearest one whose day has come: a run that missed days sends one reminder,
    not several; a larger one never comes after a smaller. None after the deadline, and
    none whose day came before the opening notice was sent (an institution whose period
    opened late already has the deadline in that notice).
    """
    if day > due_on:
        return None
    due = [days for days in settings.PORTAL_REMINDER_DAYS
           if due_on - timedelta(days=days) <= day and opened_notice_on < due_on - timedelta(days=days)]
    return min(due) if due else None
