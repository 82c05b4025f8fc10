"""`idp logout`: the back-channel logout deliveries `idp worker` sends (issue 14)."""

from __future__ import annotations

import click

from idp.cli.base import in_app, json_option, print_json


@click.group()
def logout() -> None:
    """Single sign-out: logout tokens sent to relying parties."""


@logout.command("deliveries")
@click.option("--failed", "failed_only", is_flag=True,
              help="Only those given up: refused (4xx, a redirect) or out of LOGOUT_MAX_ATTEMPTS.")
@click.option("--client", "client_id", help="Only this client's.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
@in_app
def deliveries(failed_only: bool, client_id: str | None, limit: int, as_json: bool) -> None:
    """List logout token deliveries, newest first, each with its attempts (when, the HTTP
    status or the network error, what followed). Queued ones are retried by `idp worker`."""
    from idp.logout.delivery import get_logout_service

    service = get_logout_service()
    found = service.deliveries(failed_only=failed_only, client_id=client_id, limit=limit)
    attempts = service.attempts(delivery.id for delivery in found)
    rows = [
        {
            "id": delivery.id,
            "client_id": delivery.client_id,
            "uri": delivery.uri,
            "sid": delivery.sid,
            "state": delivery.state,
            "created_at": delivery.created_at,
            "next_attempt_at": delivery.next_attempt_at if delivery.state == "queued" else None,
            "attempts": [
                {"at": attempt.attempted_at, "status": attempt.status, "error": attempt.error,
                 "outcome": attempt.outcome, "duration_ms": attempt.duration_ms}
                for attempt in attempts.get(delivery.id, [])
            ],
        }
        for delivery in found
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no failed deliveries" if failed_only else "no deliveries")
    for row in rows:
        click.echo(f"#{row['id']} {row['state']:9} {row['client_id']} {row['uri']} "
                   f"(queued {row['created_at'].isoformat()})")
        for attempt in row["attempts"]:
            answer = f"HTTP {attempt['status']}" if attempt["status"] is not None else "no answer"
            detail = f": {attempt['error']}" if attempt["error"] else ""
            click.echo(f"    {attempt['at'].isoformat()} {answer} in {attempt['duration_ms']} ms -> "
                       f"{attempt['outcome']}{detail}")
        if row["next_attempt_at"]:
            click.echo(f"    next attempt {row['next_attempt_at'].isoformat()}")
