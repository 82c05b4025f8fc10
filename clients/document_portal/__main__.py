"""`python -m clients.document_portal run | db upgrade | demo pki … | demo issue …`.

run         serve the portal on 127.0.0.1:5004 (development server; production runs
            `clients.document_portal:create_app()` under granian or gunicorn)
db upgrade  create or upgrade the portal's own database (its Alembic migrations)
demo pki    development only: make the demo certificate authority and school certificate,
            and write the settings file (DOCUMENT_PORTAL_CONFIG) that signs with them
demo issue  development only: issue one transcript from the demo school to the demo user
            (Passerelle must be running: it sends the email)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clients.document_portal.config import ConfigError

HOST, PORT = "127.0.0.1", 5004


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m clients.document_portal")
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("run")
    db = commands.add_parser("db")
    db.add_argument("action", choices=["upgrade"])
    demo = commands.add_parser("demo").add_subparsers(dest="demo", required=True)
    pki = demo.add_parser("pki")
    pki.add_argument("--directory", type=Path, required=True)
    pki.add_argument("--config", type=Path, required=True)
    pki.add_argument("--organization-number", required=True)
    issue = demo.add_parser("issue")
    issue.add_argument("--email", required=True)
    issue.add_argument("--organization-id", required=True)
    issue.add_argument("--organization-number", required=True)
    issue.add_argument("--organization-name-fr", required=True)
    issue.add_argument("--organization-name-en", required=True)
    issue.add_argument("--wait", type=float, default=0, help="seconds to wait for Passerelle")
    return main


def main(argv: list[str] | None = None) -> int:
    try:
        arguments = parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if arguments.command == "demo" and arguments.demo == "pki":
        from clients.document_portal.demo import write_demo_settings

        write_demo_settings(arguments.directory, arguments.config, arguments.organization_number)
        print(f"document portal: demo signing settings in {arguments.config}")
        return 0
    from clients.document_portal import create_app

    try:
        app = create_app()
    except ConfigError as error:
        print(f"document portal: {error}", file=sys.stderr)
        return 2
    if arguments.command == "run":
        app.run(host=HOST, port=PORT, debug=False, use_reloader=False)
        return 0
    from clients.document_portal.db import db

    if arguments.command == "db":
        from clients.document_portal.migrations import upgrade

        with app.app_context(), db.engine.begin() as connection:
            upgrade(connection)
        print("document portal: database is up to date")
        return 0
    return demo_issue(app, arguments)


def demo_issue(app, arguments) -> int:
    from clients.document_portal.db import db
    from clients.document_portal.demo import DEMO_STAFF_SUB, issue_demo_document
    from clients.document_portal.errors import InvitationsApiError
    from clients.document_portal.issuing.services import Staff
    from clients.document_portal.issuing.views import get_issuing_service

    if not app.extensions["document_portal"].settings.is_development:
        print("document portal: `demo issue` runs in development only", file=sys.stderr)
        return 2
    staff = Staff(sub=DEMO_STAFF_SUB, organization_id=arguments.organization_id,
                  organization_number=arguments.organization_number,
                  organization_name_fr=arguments.organization_name_fr,
                  organization_name_en=arguments.organization_name_en)
    with app.test_request_context():
        try:
            document = issue_demo_document(get_issuing_service(), staff, arguments.email, arguments.wait)
        except InvitationsApiError as error:
            db.session.rollback()
            print(f"document portal: Passerelle refused the demo invitation ({type(error).__name__})", file=sys.stderr)
            return 1
        db.session.commit()
    print("document portal: demo document " + ("issued" if document else "already issued"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
