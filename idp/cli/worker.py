"""`idp serve` (the server: granian with config/granian.env, issue 10), `idp worker` (mail and
pruning in the background) and `idp serve-management` (probes and metrics on a port of their
own): the long-running processes (issue 15)."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

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


# config/granian.env of the checkout this package runs from (production: /opt/passerelle).
GRANIAN_ENV = Path(__file__).resolve().parents[2] / "config" / "granian.env"


def granian_environment(text: str, environ: Mapping[str, str], *, host: str | None, port: int | None,
                        workers: int | None) -> dict[str, str]:
    """The environment granian runs with: the KEY=value lines of config/granian.env, then
    the environment (so systemd's own EnvironmentFile= or `GRANIAN_WORKERS=4 idp serve` wins
    over the file, as with `set -a; . config/granian.env`), then the command's options."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip().isidentifier():
            raise ValueError(f"line {number}: not a KEY=value line: {line!r}")
        values[name.strip()] = " ".join(shlex.split(value))
    env = {**values, **environ}
    for name, option in (("GRANIAN_HOST", host), ("GRANIAN_PORT", port), ("GRANIAN_WORKERS", workers)):
        if option is not None:
            env[name] = str(option)
    return env


@click.command("serve")
@click.option("--host", default=None, help="Default GRANIAN_HOST (127.0.0.1 in config/granian.env).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default GRANIAN_PORT (5000).")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Default GRANIAN_WORKERS (2).")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The granian settings (default: config/granian.env of this installation).")
def serve(host: str | None, port: int | None, workers: int | None, env_file: Path | None) -> None:
    """Serve Passerelle with granian, as `make run` and the systemd unit do: the settings of
    config/granian.env (workers, threads, backpressure, timeouts, respawn, access log), under
    the GRANIAN_* variables already set, under these options. Replaces this process with
    granian, which stops gracefully on SIGTERM. Put a buffering TLS proxy in front
    (docs/deployment.md)."""
    path = env_file or GRANIAN_ENV
    try:
        env = granian_environment(path.read_text(), os.environ, host=host, port=port, workers=workers)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{path}: {error}") from error
    from idp import create_app

    create_app()  # checks the settings (and stops on unsafe ones) before any worker starts
    metrics_dir = env.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics_dir:
        # Counters of an earlier run would be added to this one's: start from an empty folder.
        Path(metrics_dir).mkdir(parents=True, exist_ok=True)
        for stale in Path(metrics_dir).glob("*.db"):
            stale.unlink(missing_ok=True)
    granian = Path(sys.executable).parent / "granian"
    argv = [str(granian) if granian.exists() else "granian", "idp:create_app"]
    click.echo(f"granian on http://{env.get('GRANIAN_HOST', '127.0.0.1')}:{env.get('GRANIAN_PORT', '8000')}, "
               f"{env.get('GRANIAN_WORKERS', '1')} workers ({path})")
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)
