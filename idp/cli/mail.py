"""`idp mail`: send what is queued (once, or as a process of its own), dead letters, and the
development mailbox."""

from __future__ import annotations

from pathlib import Path

import click

from idp.cli.base import get_app, in_app, json_option, print_json


@click.group()
def mail() -> None:
    """The mail outbox."""


@mail.command("send-pending")
@click.option("--watch", is_flag=True, help="Keep running: send due mail every --interval seconds.")
@click.option("--interval", type=click.FloatRange(0.2, 300), default=2.0, show_default=True,
              help="With --watch, seconds between two looks at the outbox.")
@click.pass_context
def send_pending(ctx: click.Context, watch: bool, interval: float) -> None:
    """Send every queued message that is due (retries included). Safe to run from cron, or
    as several --watch processes, while the server runs: each message is claimed by one
    sender only. With --watch it is the production sender (docs/deployment.md, Mail)."""
    from idp.mail.delivery import deliver
    from idp.ops.worker import Worker

    app = get_app(ctx)
    if watch:  # `idp worker` without the pruning: one loop for both (idp/ops/worker.py)
        runner = Worker(app, jobs=("mail",), interval=interval, report=click.echo)
        runner.install_signal_handlers()
        runner.run()
        return
    with app.app_context():
        sent, failed = deliver()
    click.echo(f"sent {sent}, failed {failed} (see `idp mail failed` for messages given up)")


@mail.command("failed")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
@in_app
def failed(limit: int, as_json: bool) -> None:
    """List dead letters, newest first: messages the relay refused for good (an SMTP 5xx) or
    that failed MAIL_MAX_ATTEMPTS times. They are never retried unless `idp mail retry`."""
    from idp.mail.delivery import get_mail_service
    from idp.mail.services import mask_addresses

    rows = [
        {
            "id": letter.id,
            "template": letter.template,
            "to": mask_addresses(letter.to_address),
            "failed_at": letter.failed_at,
            "attempts": letter.attempts,
            "smtp_code": letter.smtp_code,
            "reason": letter.last_error,
        }
        for letter in get_mail_service().dead_letters(limit)
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no dead letters")
    for row in rows:
        when = row["failed_at"].isoformat(timespec="seconds") if row["failed_at"] else "-"
        click.echo(f"{row['id']:>6} {row['template']:20} {row['to']:30} {when} {row['smtp_code'] or '-':>4} "
                   f"{row['reason'] or ''}")


@mail.command("retry")
@click.argument("message_id", type=int)
@in_app
def retry(message_id: int) -> None:
    """Queue a dead letter again (after fixing the address or the relay), with a fresh set of
    attempts and the same Message-ID. The next send sends it."""
    from idp.extensions import db
    from idp.mail.delivery import get_mail_service
    from idp.mail.errors import NotADeadLetter

    try:
        get_mail_service().requeue(message_id)
    except NotADeadLetter:
        raise click.ClickException(f"message {message_id} is not a dead letter (see `idp mail failed`)") from None
    db.session.commit()
    click.echo(f"message {message_id} queued again")


@mail.command("devbox")
@click.option("--smtp-port", default=8025, show_default=True)
@click.option("--http-port", default=8026, show_default=True)
@click.option("--directory", default="var/mailbox", show_default=True, type=click.Path(path_type=Path))
def devbox(smtp_port: int, http_port: int, directory: Path) -> None:
    """Development only: an SMTP server on 127.0.0.1 and a page listing what it received."""
    from idp.mail.devbox import serve

    click.echo(f"development mailbox: SMTP 127.0.0.1:{smtp_port}, page http://127.0.0.1:{http_port}")
    serve(directory, smtp_port, http_port)
