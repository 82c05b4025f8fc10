"""The reports' step of `python -m clients.institution_portal demo`: a draft report in the
demo period with a few students, so `make run` shows a report to review and submit.
Idempotent: a report that already has rows (or was submitted) is left as it is."""

from __future__ import annotations

from clients.institution_portal.reports.services import Actor, ReportService

DEMO_SUB = "demo"  # created_by of the demo draft: no person of Passerelle
DEMO_STUDENTS = (
    {"student_number": "E2026-0001", "family_name": "Nguyen", "given_names": "Van An", "date_of_birth": "2003-04-12",
     "uci": "11223344", "permit_number": "F301234567", "program": "Soins infirmiers / Nursing",
     "status": "full_time"},
    {"student_number": "E2026-0002", "family_name": "Okafor", "given_names": "Chidinma", "date_of_birth": "2001-09-30",
     "uci": "1122334455", "permit_number": "F302345678", "program": "Génie logiciel / Software Engineering",
     "status": "part_time"},
    {"student_number": "E2026-0003", "family_name": "Silva", "given_names": "Lucas", "date_of_birth": "2002-01-18",
     "uci": "22334455", "permit_number": "F303456789", "program": "Administration des affaires / Business",
     "status": "authorized_leave", "status_date": "2026-09-08", "note": "Congé médical / Medical leave"},
    {"student_number": "E2026-0004", "family_name": "Haddad", "given_names": "Yasmine", "date_of_birth": "2000-06-05",
     "uci": "3344556677", "permit_number": "F304567890", "program": "Techniques de laboratoire / Lab Technology",
     "status": "completed", "status_date": "2026-08-29"},
)


def demo_students(context) -> str:
    """The demo DLI's draft report for the demo period, with DEMO_STUDENTS."""
    service = ReportService(context.session, context.settings, context.clock)
    actor = Actor(organization_id=context.institution.public_id, sub=DEMO_SUB, role="primary")
    report = service.open(actor, context.period.id)
    draft = service.current(report)
    if draft.state != "draft" or draft.rows:
        return f"compliance report of the demo period: kept as it is ({len(draft.rows)} students, {draft.state})"
    for values in DEMO_STUDENTS:
        service.add_row(actor, report.public_id, report.revision, values)
    return f"compliance report of the demo period: a draft with {len(DEMO_STUDENTS)} students"
