"""`idp doctor`: is this deployment ready? (issue 15, docs/deployment.md)"""

from __future__ import annotations

import click

from idp.cli.base import get_app


@click.command("doctor")
@click.option("--mail-to", default=None, metavar="ADDRESS",
              help="Send a test message to this address (otherwise only connect to the SMTP relay).")
@click.pass_context
def doctor(ctx: click.Context, mail_to: str | None) -> None:
    """Check the settings, the database and its migrations, the signing keys, the clock, Redis
    and the SMTP relay; print each in plain words and exit 1 if any is wrong."""
    from idp.extensions import db
    from idp.ops import doctor as checks
    from idp.ops.views import redis_storage

    app = get_app(ctx)  # refuses unsafe settings with their reason before anything else
    settings = app.extensions["idp"].settings
    with app.app_context():
        findings = [
            checks.Finding("settings", True, f"{settings.ENV} settings accepted"),
            checks.check_issuer(settings),
            checks.check_database(db.engine),
            checks.check_signing_keys(db.engine),
            checks.check_clock(db.engine),
            checks.check_redis(str(settings.RATELIMIT_STORAGE_URI), redis_storage(app)),
            checks.check_smtp(settings, mail_to),
        ]
    for line in checks.report(findings):
        click.echo(line)
    if not all(finding.ok for finding in findings):
        ctx.exit(1)
