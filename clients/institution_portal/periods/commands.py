"""The operator's commands for the registry and the periods (`python -m clients.institution_portal
institutions sync|import FILE.csv|list`, `periods run [--no-sync]`): thin, as views are;
each returns the process's exit status (0 done, 1 something failed, 2 wrong use)."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask

from clients.institution_portal.db import db
from clients.institution_portal.errors import OrganizationsApiError
from clients.institution_portal.institutions.provinces import read_province_file
from clients.institution_portal.institutions.services import InstitutionService
from clients.institution_portal.mail import Mailer
from clients.institution_portal.organizations_api import OrganizationsApi
from clients.institution_portal.periods.runner import PeriodRunner

USAGE = ("usage: python -m clients.institution_portal institutions sync | institutions import FILE.csv | "
         "institutions list | periods run [--no-sync]")


def run_command(app: Flask, argv: list[str]) -> int:
    settings = app.extensions["institution_portal"].settings
    clock = app.extensions["institution_portal"].clock
    with app.app_context():
        if argv == ["institutions", "sync"]:
            return sync(InstitutionService(db.session, clock), OrganizationsApi(settings, clock))
        if len(argv) == 3 and argv[:2] == ["institutions", "import"]:
            return import_provinces(InstitutionService(db.session, clock), Path(argv[2]))
        if argv == ["institutions", "list"]:
            for institution in InstitutionService(db.session, clock).all():
                print(f"{institution.number}\t{institution.province or '--'}\t{institution.state}\t"
                      f"{institution.public_id}\t{institution.name_fr}")
            return 0
        if argv[:2] == ["periods", "run"] and argv[2:] in ([], ["--no-sync"]):
            if not settings.PORTAL_MAIL_FROM:
                print("institution portal: PORTAL_MAIL_FROM is not set: no notice can be sent", file=sys.stderr)
                return 2
            runner = PeriodRunner(db.session, settings, clock, OrganizationsApi(settings, clock), Mailer(settings, clock))
            report = runner.run(sync=argv[2:] != ["--no-sync"])
            for line in report.lines():
                print(f"institution portal: {line}")
            for reason in report.reasons:
                print(f"institution portal: failed: {reason}", file=sys.stderr)
            return 1 if report.failed or report.synced is False else 0
    print(USAGE, file=sys.stderr)
    return 2


def sync(service: InstitutionService, api: OrganizationsApi) -> int:
    try:
        result = service.sync(api.list_organizations())
    except OrganizationsApiError as error:
        print(f"institution portal: Passerelle's organizations API failed: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 1
    db.session.commit()
    print(f"institution portal: {len(result.added)} added, {len(result.updated)} updated, "
          f"{len(result.detached)} detached")
    return 0


def import_provinces(service: InstitutionService, path: Path) -> int:
    try:
        data = path.read_bytes()
    except OSError as error:
        print(f"institution portal: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    result = service.import_provinces(*read_province_file(data))
    if result.problems:
        db.session.rollback()
        for problem in result.problems:
            print(f"{path}:{problem.line}: {problem.reason}", file=sys.stderr)
        print("institution portal: nothing imported; fix these lines and import the file again", file=sys.stderr)
        return 1
    db.session.commit()
    print(f"institution portal: province changed for {len(result.changed)} institution(s)")
    return 0
