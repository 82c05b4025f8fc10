"""`idp mail`: send what is queued, and the development mailbox."""

from __future__ import annotations

from pathlib import Path

import click

from idp.cli.base import get_app


@click.group()
def mail() -> None:
    """The mail outbox."""


@mail.command("send-pending")
@click.pass_context
def send_pending(ctx: click.Context) -> None:
    """Send every queued message that is due (retries included). Safe to run from cron
    while the server runs: each message is claimed by one sender only."""
    from idp.mail.delivery import deliver

    with get_app(ctx).app_context():
        sent, failed = deliver()
    click.echo(f"sent {sent}, failed {failed} (failed messages stay queued for a retry)")


@mail.command("devbox")
@click.option("--smtp-port", default=8025, show_default=True)
@click.option("--http-port", default=8026, show_default=True)
@click.option("--directory", default="var/mailbox", show_default=True, type=click.Path(path_type=Path))
def devbox(smtp_port: int, http_port: int, directory: Path) -> None:
    """Development only: an SMTP server on 127.0.0.1 and a page listing what it received."""
    from idp.mail.devbox import serve

    click.echo(f"development mailbox: SMTP 127.0.0.1:{smtp_port}, page http://127.0.0.1:{http_port}")
    serve(directory, smtp_port, http_port)
