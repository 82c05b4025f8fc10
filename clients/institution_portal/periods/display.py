"""What home shows about reporting, in the page's language (Flask-Babel): the province's
name, the period's dates, the months periods open in. The decisions are PeriodService's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import get_month_names
from babel.lists import format_list
from flask_babel import format_date, get_locale, lazy_gettext as _l
from sqlalchemy.orm import Session

from clients.institution_portal.config import Settings
from clients.institution_portal.periods.services import PeriodService

PROVINCE_NAMES = {
    "AB": _l("Alberta"),
    "BC": _l("British Columbia"),
    "MB": _l("Manitoba"),
    "NB": _l("New Brunswick"),
    "NL": _l("Newfoundland and Labrador"),
    "NS": _l("Nova Scotia"),
    "NT": _l("Northwest Territories"),
    "NU": _l("Nunavut"),
    "ON": _l("Ontario"),
    "PE": _l("Prince Edward Island"),
    "QC": _l("Quebec"),
    "SK": _l("Saskatchewan"),
    "YT": _l("Yukon"),
}


@dataclass(frozen=True)
class Reporting:
    """kind: open, closed, exempt, no_province (also for an institution not yet synced)."""

    kind: str
    province: str | None
    months: str
    days: int
    period_id: int | None = None
    opens_on: str | None = None
    due_on: str | None = None
    next_opens_on: str | None = None
    days_left: int | None = None


def long_date(value: date | None) -> str | None:
    return format_date(value, format="long") if value is not None else None


def months_text(months: tuple[int, ...]) -> str:
    """« avril et novembre », "April and November"."""
    locale = get_locale()
    names = get_month_names("wide", locale=locale)
    return format_list([names[month] for month in months], locale=locale)


def reporting_for(session: Session, settings: Settings, clock, public_id: str) -> Reporting:
    status = PeriodService(session, settings, clock).status(public_id)
    code = status.institution.province if status.institution is not None else None
    return Reporting(
        kind="no_province" if status.kind == "unregistered" else status.kind,
        province=str(PROVINCE_NAMES[code]) if code in PROVINCE_NAMES else code,
        months=months_text(settings.PORTAL_PERIOD_MONTHS),
        days=settings.PORTAL_PERIOD_DAYS,
        period_id=status.period.id if status.period is not None else None,
        opens_on=long_date(status.period.opens_on) if status.period is not None else None,
        due_on=long_date(status.period.due_on) if status.period is not None else None,
        next_opens_on=long_date(status.next_opens_on),
        days_left=status.days_left,
    )
