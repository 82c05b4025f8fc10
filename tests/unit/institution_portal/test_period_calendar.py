"""Which reporting period a day falls in (periods/calendar.py): April and November by
default, 60 days to the deadline, Quebec exempt, seasons across the year's end, reminders."""

from __future__ import annotations

from datetime import date

import pytest

from clients.institution_portal.periods.calendar import current_season, is_exempt, next_season, reminder_due
from tests.institution_portal_mail_support import portal_settings


@pytest.fixture
def settings():
    return portal_settings()


@pytest.mark.parametrize(("day", "key", "due"), [
    (date(2027, 4, 1), "2027-04", date(2027, 5, 31)),
    (date(2027, 5, 31), "2027-04", date(2027, 5, 31)),
    (date(2026, 11, 1), "2026-11", date(2026, 12, 31)),
    (date(2026, 12, 31), "2026-11", date(2026, 12, 31)),
])
def test_april_and_november_each_open_a_sixty_day_period(settings, day, key, due):
    found = current_season(settings, day)
    assert found is not None and (found.key, found.due_on) == (key, due)


@pytest.mark.parametrize("day", [date(2027, 3, 31), date(2027, 6, 1), date(2027, 1, 1), date(2026, 10, 31)])
def test_between_two_periods_none_is_open(settings, day):
    assert current_season(settings, day) is None


def test_a_period_that_opens_in_december_runs_into_the_next_year_and_keeps_its_season():
    settings = portal_settings(PORTAL_PERIOD_MONTHS="6,12", PORTAL_PERIOD_OPENING_DAY=15)
    found = current_season(settings, date(2027, 1, 20))
    assert found.key == "2026-12" and found.opens_on == date(2026, 12, 15) and found.due_on == date(2027, 2, 13)
    assert next_season(settings, date(2026, 12, 20)).opens_on == date(2027, 6, 15)


def test_the_next_period_after_november_is_april_of_the_next_year(settings):
    assert next_season(settings, date(2026, 12, 7)).opens_on == date(2027, 4, 1)
    assert next_season(settings, date(2027, 1, 1)).key == "2027-04"
    assert next_season(settings, date(2027, 4, 1)).key == "2027-11"


def test_quebec_is_exempt_and_no_province_is_not_yet_anything(settings):
    assert is_exempt(settings, "QC") and not is_exempt(settings, "ON") and not is_exempt(settings, None)


DUE = date(2026, 12, 31)
OPENED = date(2026, 11, 1)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 11, 30), None),
    (date(2026, 12, 1), 30),
    (date(2026, 12, 23), 30),
    (date(2026, 12, 24), 7),
    (date(2026, 12, 30), 1),
    (date(2026, 12, 31), 1),
    (date(2027, 1, 1), None),  # after the deadline
])
def test_the_nearest_reminder_whose_day_has_come_is_due(settings, day, expected):
    assert reminder_due(settings, DUE, day, OPENED) == expected


def test_no_reminder_for_a_day_that_came_before_the_opening_notice(settings):
    """An institution whose period opened on 10 December had its notice then: no 30-day reminder."""
    assert reminder_due(settings, DUE, date(2026, 12, 11), date(2026, 12, 10)) is None
    assert reminder_due(settings, DUE, date(2026, 12, 24), date(2026, 12, 10)) == 7
