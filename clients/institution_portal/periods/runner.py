"""`python -m clients.institution_portal periods run`: sync the registry, open the periods
that are due, and send each notice that is due, once. No Flask.

It commits after each step (a period opened, a notice claimed, a notice sent or failed), so
a second run at the same time sees every claim: see notices.py. Mail goes out only after
its claim is committed, and the claim is marked sent right after the relay took it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from clients.institution_portal.config import Settings
from clients.institution_portal.errors import OrganizationsApiError
from clients.institution_portal.institutions.services import InstitutionService
from clients.institution_portal.mail import Mailer, MailError, locales_for, render_email
from clients.institution_portal.periods.calendar import reminder_due
from clients.institution_portal.periods.models import NoticeKind, NoticeState, ReportingPeriod
from clients.institution_portal.periods.notices import NoticeService
from clients.institution_portal.periods.services import PeriodService

PRIMARY = "primary"
ACTIVE = "active"


class Directory(Protocol):
    """What the run needs of organizations_api.OrganizationsApi."""

    def list_organizations(self) -> list: ...

    def list_members(self, organization_id: str) -> list: ...


@dataclass
class RunReport:
    synced: bool | None = None  # None: not asked to sync
    opened: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Why each failed notice failed, "label: reason", for the operator.
    reasons: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        synced = {None: [], True: ["registry synced from Passerelle"],
                  False: ["registry NOT synced: Passerelle's organizations API failed"]}[self.synced]
        return [
            *synced,
            f"periods opened: {len(self.opened)}" + (f" ({', '.join(self.opened)})" if self.opened else ""),
            f"notices sent: {len(self.sent)}" + (f" ({', '.join(self.sent)})" if self.sent else ""),
            f"notices failed (retried next run): {len(self.failed)}" + (f" ({', '.join(self.failed)})" if self.failed else ""),
        ]


class PeriodRunner:
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime], directory: Directory,
                 mailer: Mailer):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.directory = directory
        self.mailer = mailer
        self.periods = PeriodService(session, settings, clock)
        self.notices = NoticeService(session, clock)

    def run(self, *, sync: bool = True) -> RunReport:
        report = RunReport()
        if sync:
            report.synced = self._sync()
        report.opened = [f"{period.institution.number} {period.season}" for period in self.periods.open_due_periods()]
        self.session.commit()
        for period in self.periods.open_periods():
            kind = self.due_notice(period)
            if kind is None:
                continue
            label = f"{period.institution.number} {period.season} {kind}"
            outcome = self.send(period, kind)
            if outcome is True:
                report.sent.append(label)
            elif outcome is not None:
                report.failed.append(label)
                report.reasons.append(f"{label}: {outcome}")
        return report

    def _sync(self) -> bool:
        try:
            organizations = self.directory.list_organizations()
        except OrganizationsApiError:
            return False
        InstitutionService(self.session, self.clock).sync(organizations)
        self.session.commit()
        return True

    def due_notice(self, period: ReportingPeriod) -> str | None:
        """The one notice this period needs today: its opening notice until that is sent,
        then the nearest reminder whose day has come, unless the report is submitted."""
        opened = self.notices.find(period.id, NoticeKind.OPENED)
        if opened is None or opened.state != NoticeState.SENT:
            return NoticeKind.OPENED
        if period.submitted_at is not None:
            return None
        days = reminder_due(self.settings, period.due_on, self.periods.today(), opened.sent_at.date())
        return None if days is None else NoticeKind.reminder(days)

    def send(self, period: ReportingPeriod, kind: str) -> bool | str | None:
        """Claim, send, record. True sent, the reason when it failed (released for the next
        run), None when another run has it or it was sent already."""
        notice = self.notices.claim(period.id, kind)
        self.session.commit()
        if notice is None:
            return None
        try:
            contact = self.primary_contact(period.institution.public_id)
            if contact is None:
                raise MailError("no active primary contact at Passerelle")
            rendered = render_email("period-opened" if kind == NoticeKind.OPENED else "period-reminder",
                                    locales_for(getattr(contact, "locale", None)), self.context(period))
            self.mailer.send(self.mailer.build(contact.email, rendered))
        except (MailError, OrganizationsApiError) as error:
            reason = f"{type(error).__name__}: {error}"
            self.notices.mark_failed(notice, reason)
            self.session.commit()
            return reason
        self.notices.mark_sent(notice, contact.email)
        self.session.commit()
        return True

    def primary_contact(self, public_id: str):
        members = self.directory.list_members(public_id)
        return next((member for member in members if member.role == PRIMARY and member.state == ACTIVE), None)

    def context(self, period: ReportingPeriod) -> dict:
        institution = period.institution
        base = self.settings.PORTAL_BASE_URL
        return {
            "institution_name": {"fr": institution.name_fr, "en": institution.name_en},
            "number": institution.number,
            "opens_on": period.opens_on,
            "due_on": period.due_on,
            "days_left": (period.due_on - self.periods.today()).days,
            "portal_url": f"{base}/",
            "help_url": self.settings.PORTAL_HELP_URL or f"{base}/help",
        }
