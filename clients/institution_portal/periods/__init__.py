"""Reporting periods (seed 002: twice a year, April and November; Quebec exempt), their
notices to the primary contact, and `python -m clients.institution_portal periods run`.

For the reports feature: a period is a ReportingPeriod row (id, institution's public id
through `institution`, opens_on, due_on); PeriodService.periods_of(public_id) lists them,
PeriodService.current(public_id) gives the open one, and PeriodService.mark_submitted(period_id)
stops the reminders once the report is submitted.
"""
