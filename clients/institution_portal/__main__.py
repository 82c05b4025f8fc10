"""`python -m clients.institution_portal run|db upgrade`.

run         serve the portal on 127.0.0.1:5003 (development server; production runs
            `clients.institution_portal:create_app()` under granian or gunicorn)
letters import FILE.csv
            import the ministry's letters of acceptance to verify (docs/institution-portal.md)
db upgrade  create or upgrade the portal's own database (its Alembic migrations)
institutions sync | import FILE.csv | list
            the registry of institutions: from Passerelle's organizations API; provinces
            from a number,province file (docs/institution-portal.md)
periods run [--no-sync]
            open the reporting periods that are due and send their notices, once (cron or
            a systemd timer)
demo [var/demo.json]
            the demo DLI of `idp demo --json`, in Ontario, with a period open today
"""

from __future__ import annotations

import sys

from clients.institution_portal.config import ConfigError

HOST, PORT = "127.0.0.1", 5003
USAGE = ("usage: python -m clients.institution_portal run | db upgrade | institutions sync|import FILE.csv|list"
         " | periods run [--no-sync] | demo [FILE]")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from clients.institution_portal import create_app

    try:
        app = create_app()
    except ConfigError as error:
        print(f"institution portal: {error}", file=sys.stderr)
        return 2
    if argv[:1] == ["letters"]:
        from clients.institution_portal.letters.commands import run_command as letters_command

        return letters_command(app, argv)
    if argv == ["run"]:
        app.run(host=HOST, port=PORT, debug=False, use_reloader=False)
        return 0
    if argv == ["db", "upgrade"]:
        from clients.institution_portal.db import db
        from clients.institution_portal.migrations import upgrade

        with app.app_context(), db.engine.begin() as connection:
            upgrade(connection)
        print("institution portal: database is up to date")
        return 0
    if argv[:1] in (["institutions"], ["periods"]):
        from clients.institution_portal.periods.commands import run_command

        return run_command(app, argv)
    if argv[:1] == ["demo"]:
        from clients.institution_portal.demo import demo

        return demo(app, argv[1:])
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
