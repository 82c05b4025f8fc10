"""`python -m clients.institution_portal demo [var/demo.json]` (make run, after db upgrade):
the demo DLI that `idp demo --json` describes, in Ontario, with a reporting period open
today. Idempotent: run it again and nothing is added twice.

Each step takes the DemoContext and returns one line for the terminal. To add to the demo
(e.g. the reports feature's demo students), append a step to STEPS.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from clients.institution_portal.config import Settings
from clients.institution_portal.db import db
from clients.institution_portal.institutions.models import Institution
from clients.institution_portal.institutions.services import InstitutionService
from clients.institution_portal.letters.demo import demo_letters
from clients.institution_portal.periods.models import ReportingPeriod
from clients.institution_portal.periods.services import PeriodService
from clients.institution_portal.reports.demo import demo_students

DEMO_FILE = Path("var/demo.json")
DEMO_PROVINCE = "ON"


@dataclass
class DemoContext:
    session: Session
    settings: Settings
    clock: Callable
    data: dict[str, Any]
    institution: Institution | None = None
    period: ReportingPeriod | None = None


def demo_institution(context: DemoContext) -> str:
    data = context.data
    service = InstitutionService(context.session, context.clock)
    context.institution = service.ensure(
        public_id=data["organization_id"], number=data["organization_number"], name_fr=data["organization_name"],
        name_en=data.get("organization_name_en") or data["organization_name"])
    service.set_province(context.institution.number, DEMO_PROVINCE)
    return f"demo DLI {context.institution.number} {context.institution.name_fr}, province {DEMO_PROVINCE}"


def demo_period(context: DemoContext) -> str:
    context.period = PeriodService(context.session, context.settings, context.clock).ensure_demo_period(
        context.institution)
    return f"reporting period open from {context.period.opens_on} to {context.period.due_on} (due)"


# The demo's steps, in order; each may rely on what earlier ones set on the context.
STEPS: list[Callable[[DemoContext], str]] = [demo_institution, demo_period, demo_students, demo_letters]


def demo(app: Flask, argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m clients.institution_portal demo [var/demo.json]", file=sys.stderr)
        return 2
    path = Path(argv[0]) if argv else DEMO_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"institution portal: cannot read {path} (written by `idp demo --json`): {error}", file=sys.stderr)
        return 2
    portal = app.extensions["institution_portal"]
    with app.app_context():
        context = DemoContext(db.session, portal.settings, portal.clock, data)
        lines = [step(context) for step in STEPS]
        db.session.commit()
    for line in lines:
        print(f"institution portal: {line}")
    return 0
