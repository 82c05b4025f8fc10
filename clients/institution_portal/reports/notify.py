"""The receipt email: when a version of a report is submitted, the institution's primary
contact (its active primary user at Passerelle, from the organizations API) gets its receipt
number, in French and English. No Flask. Sent after the submission is committed; a failure
is logged and does not undo the submission (the receipt stays on the portal's pages)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from clients.institution_portal.config import Settings
from clients.institution_portal.errors import OrganizationsApiError
from clients.institution_portal.mail import Mailer, MailError, locales_for, render_email
from clients.institution_portal.reports.models import ComplianceReport, ReportVersion

log = logging.getLogger(__name__)
PRIMARY, ACTIVE = "primary", "active"


class Directory(Protocol):
    """What the notifier needs of organizations_api.OrganizationsApi."""

    def list_members(self, organization_id: str) -> list: ...


class EmailNotifier:
    def __init__(self, settings: Settings, directory: Directory, mailer: Mailer):
        self.settings = settings
        self.directory = directory
        self.mailer = mailer

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], datetime], directory: Directory) -> EmailNotifier:
        return cls(settings, directory, Mailer(settings, clock))

    def report_submitted(self, report: ComplianceReport, version: ReportVersion) -> bool:
        """Email the receipt; True when the relay took it."""
        try:
            members = self.directory.list_members(report.organization_id)
            contact = next((member for member in members if member.role == PRIMARY and member.state == ACTIVE), None)
            if contact is None:
                raise MailError("no active primary contact at Passerelle")
            rendered = render_email("report-receipt", locales_for(getattr(contact, "locale", None)),
                                    self.context(report, version))
            self.mailer.send(self.mailer.build(contact.email, rendered))
        except (MailError, OrganizationsApiError) as error:
            log.warning("receipt %s not emailed: %s: %s", version.receipt_number, type(error).__name__, error)
            return False
        return True

    def context(self, report: ComplianceReport, version: ReportVersion) -> dict:
        institution = report.period.institution
        base = self.settings.PORTAL_BASE_URL
        return {
            "institution_name": {"fr": institution.name_fr, "en": institution.name_en},
            "number": institution.number,
            "receipt": version.receipt_number,
            "version": version.number,
            "students": len(version.rows),
            "submitted_on": version.submitted_at.date(),
            "due_on": report.period.due_on,
            "portal_url": f"{base}/reports/{report.public_id}/versions/{version.number}",
            "help_url": self.settings.PORTAL_HELP_URL or f"{base}/help",
        }
