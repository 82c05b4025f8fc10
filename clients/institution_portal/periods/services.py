"""Reporting periods: which are open, opening them, what home shows. No Flask; the caller
commits (design.md, Where code goes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clients.institution_portal.config import Settings
from clients.institution_portal.institutions.models import Institution, InstitutionState
from clients.institution_portal.periods.calendar import current_season, is_exempt, next_season
from clients.institution_portal.periods.models import DEMO_SEASON, ReportingPeriod


@dataclass(frozen=True)
class PeriodStatus:
    """What home says about reporting. kind: "unregistered" (not in the registry yet),
    "no_province" (no period until an operator records it), "exempt" (its province reports
    elsewhere), "open" (period and deadline), "closed" (next_opens_on)."""

    kind: str
    institution: Institution | None = None
    period: ReportingPeriod | None = None
    next_opens_on: date | None = None
    days_left: int | None = None


class PeriodService:
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime]):
        self.session = session
        self.settings = settings
        self.clock = clock

    def today(self) -> date:
        """Periods are whole days, in UTC."""
        return self.clock().date()

    # Reading

    def institution(self, public_id: str) -> Institution | None:
        return self.session.scalar(select(Institution).where(Institution.public_id == public_id))

    def periods_of(self, public_id: str) -> list[ReportingPeriod]:
        """The institution's periods, newest first."""
        return list(self.session.scalars(
            select(ReportingPeriod).join(Institution).where(Institution.public_id == public_id)
            .order_by(ReportingPeriod.opens_on.desc(), ReportingPeriod.id.desc())))

    def find(self, public_id: str, period_id: int) -> ReportingPeriod | None:
        """The period, only if it is this institution's (ids are guessable)."""
        return self.session.scalar(
            select(ReportingPeriod).join(Institution)
            .where(ReportingPeriod.id == period_id, Institution.public_id == public_id))

    def current(self, public_id: str) -> ReportingPeriod | None:
        """The institution's period open today, if any."""
        today = self.today()
        return next((period for period in self.periods_of(public_id) if period.opens_on <= today <= period.due_on),
                    None)

    def status(self, public_id: str) -> PeriodStatus:
        institution = self.institution(public_id)
        if institution is None:
            return PeriodStatus("unregistered")
        if institution.province is None:
            return PeriodStatus("no_province", institution)
        if is_exempt(self.settings, institution.province):
            return PeriodStatus("exempt", institution)
        period = self.current(public_id)
        if period is not None:
            return PeriodStatus("open", institution, period, days_left=(period.due_on - self.today()).days)
        return PeriodStatus("closed", institution, next_opens_on=next_season(self.settings, self.today()).opens_on)

    def reporting_institutions(self) -> list[Institution]:
        """Active institutions with a province that is not exempt."""
        found = self.session.scalars(select(Institution).where(
            Institution.state == InstitutionState.ACTIVE, Institution.province.is_not(None)).order_by(Institution.id))
        return [institution for institution in found if not is_exempt(self.settings, institution.province)]

    def open_periods(self) -> list[ReportingPeriod]:
        """Every period open today of an institution that reports."""
        today = self.today()
        ids = [institution.id for institution in self.reporting_institutions()]
        if not ids:
            return []
        return list(self.session.scalars(select(ReportingPeriod).where(
            ReportingPeriod.institution_id.in_(ids), ReportingPeriod.opens_on <= today,
            ReportingPeriod.due_on >= today).order_by(ReportingPeriod.id)))

    # Changing

    def open_due_periods(self) -> list[ReportingPeriod]:
        """Make today's season's period for every institution that reports and has none:
        returns those made. Safe when two runs do it at once (one row per institution and
        season; the loser's insert is undone and skipped)."""
        found = current_season(self.settings, self.today())
        if found is None:
            return []
        made = []
        for institution in self.reporting_institutions():
            if self._period(institution.id, found.key) is not None:
                continue
            period = self._insert(ReportingPeriod(institution_id=institution.id, season=found.key,
                                                  opens_on=found.opens_on, due_on=found.due_on,
                                                  created_at=self.clock()))
            if period is not None:
                made.append(period)
        return made

    def ensure_demo_period(self, institution: Institution) -> ReportingPeriod:
        """A period open today for the demo: today's season's if one is open, else one of
        its own that opens today."""
        found = current_season(self.settings, self.today())
        if found is not None:
            period = self._period(institution.id, found.key) or self._insert(ReportingPeriod(
                institution_id=institution.id, season=found.key, opens_on=found.opens_on, due_on=found.due_on,
                created_at=self.clock()))
            return period or self._period(institution.id, found.key)
        period = self._period(institution.id, DEMO_SEASON)
        if period is None:
            period = ReportingPeriod(institution_id=institution.id, season=DEMO_SEASON, created_at=self.clock())
            self.session.add(period)
        if period.opens_on is None or not period.opens_on <= self.today() <= period.due_on:
            period.opens_on = self.today()
            period.due_on = self.today() + timedelta(days=self.settings.PORTAL_PERIOD_DAYS)
        self.session.flush()
        return period

    def mark_submitted(self, period_id: int) -> None:
        """The reports feature calls this when the period's report is first submitted."""
        period = self.session.get(ReportingPeriod, period_id)
        if period is not None and period.submitted_at is None:
            period.submitted_at = self.clock()
            self.session.flush()

    def _period(self, institution_id: int, season: str) -> ReportingPeriod | None:
        return self.session.scalar(select(ReportingPeriod).where(
            ReportingPeriod.institution_id == institution_id, ReportingPeriod.season == season))

    def _insert(self, period: ReportingPeriod) -> ReportingPeriod | None:
        try:
            with self.session.begin_nested():
                self.session.add(period)
        except IntegrityError:
            return None
        return period
