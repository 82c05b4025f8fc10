"""`idp worker` (mail and pruning in the background) and `idp serve-management` (probes and
metrics on a port of their own): the long-running processes beside the server (issue 15)."""

from __future__ import annotations

import click

from idp.cli.base import get_app


@click.command("worker")
@click.option("--interval", type=click.FloatRange(0.2, 300), default=None,
              help="Seconds between two looks at the outbox (default WORKER_INTERVAL).")
@click.option("--once", is_flag=True, help="One pass (send what is due, prune), then exit.")
@click.pass_context
def worker(ctx: click.Context, interval: float | None, once: bool) -> None:
    """Send the mail outbox and delete expired rows until SIGTERM, which finishes the message
    being sent and exits 0. Safe on several hosts with PostgreSQL; one on SQLite."""
    from idp.ops.worker import Worker

    runner = Worker(get_app(ctx), interval=interval, report=click.echo)
    if once:
        runner.run_once()
        return
    runner.install_signal_handlers()
    runner.run()


@click.command("serve-management")
@click.option("--host", default=None, help="Default MANAGEMENT_HOST.")
@click.option("--port", type=int, default=None, help="Default MANAGEMENT_PORT.")
@click.pass_context
def serve_management(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve /health/live, /health/ready and /metrics (every worker's, under
    PROMETHEUS_MULTIPROC_DIR) on the management port, with granian, in one process. Never
    expose it publicly."""
    from granian import Granian
    from granian.constants import Interfaces

    settings = get_app(ctx).extensions["idp"].settings  # checks the settings before serving
    port = port if port is not None else settings.MANAGEMENT_PORT
    if not port:
        raise click.ClickException("set MANAGEMENT_PORT (or --port) to serve the management app")
    host = host or settings.MANAGEMENT_HOST
    click.echo(f"management app on http://{host}:{port} (/health/live, /health/ready, /metrics)")
    Granian("idp.ops.management:create_management_app", address=host, port=port, interface=Interfaces.WSGI,
            factory=True, workers=1, blocking_threads=4, backpressure=4, websockets=False, log_access=False).serve()
