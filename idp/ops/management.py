"""The management app (issue 15): /health/live, /health/ready and /metrics on a port of
their own (MANAGEMENT_HOST, MANAGEMENT_PORT), never exposed publicly.

`idp serve-management` serves it with granian in one process. It shares the settings and the
database with the main app, but nothing else: no pages, no sessions, no locales, no limits.
Under PROMETHEUS_MULTIPROC_DIR it adds up every worker process's metrics, the main app's
workers and `idp worker` alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from idp import config as config_module
from idp import (
    context,
    models,  # noqa: F401  (registers every table)
    settings_checks,
)
from idp.clock import Clock, system_clock
from idp.config import Settings
from idp.db import engine_options
from idp.extensions import db
from idp.ops import logs, metrics, views


def create_management_app(overrides: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    values = config_module.load(overrides)
    settings_checks.validate(values)
    settings = Settings(values)
    app = Flask("idp.management")
    app.config.update(values)
    app.config[views.MANAGEMENT] = True
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        settings.SQLALCHEMY_DATABASE_URI, settings.SQLALCHEMY_ENGINE_OPTIONS, settings.DATABASE_LOCK_TIMEOUT_MS
    )
    context.install(app, settings, clock or system_clock)
    db.init_app(app)
    logs.configure(settings.LOG_FORMAT, settings.LOG_LEVEL)
    metrics.prepare_multiprocess_dir()
    app.register_blueprint(views.bp)
    return app
