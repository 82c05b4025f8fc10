"""`idp audit export`: the security events, one JSON object per line, for a SIEM (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from idp.cli.base import in_app


def parse_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time", param_hint=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group()
def audit() -> None:
    """The security events (sign-ins, failures, locks, changes to accounts and organizations)."""


@audit.command("export")
@click.option("--since", required=True, help="ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00:00Z (inclusive).")
@click.option("--until", default=None, help="ISO 8601 (exclusive); default: now.")
@click.option("--format", "output_format", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@in_app
def export(since: str, until: str | None, output_format: str) -> None:
    """Print the events between two times, oldest first, one JSON object per line: id, time,
    tag, user_id, ip_address, user_agent, details (with request_id). Streams: memory stays
    flat however many there are."""
    from idp.extensions import db
    from idp.ops.services import export_lines

    start = parse_time(since, "--since")
    end = parse_time(until, "--until") if until else None
    for line in export_lines(db.session, start, end):
        click.echo(line)
