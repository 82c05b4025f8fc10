"""Startup checks of the observability and worker settings (issue 15, idp/ops)."""

from __future__ import annotations

import pytest

from idp.config import DEFAULTS, ConfigError
from idp.settings_checks import validate
from tests.unit.test_config import PRODUCTION


@pytest.mark.parametrize(("name", "value"), [
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "LOUD"),
    ("METRICS_ALLOWED_ADDRESSES", "127.0.0.1"),
    ("METRICS_ALLOWED_ADDRESSES", ["localhost"]),
    ("MANAGEMENT_PORT", 70000),
    ("MANAGEMENT_PORT", "9102"),
    ("WORKER_INTERVAL", 0),
    ("WORKER_PRUNE_BATCH", -1),
    ("PRUNE_AFTER", True),
])
def test_a_wrong_operations_setting_stops_startup(name, value):
    with pytest.raises(ConfigError, match=name):
        validate({**DEFAULTS, **PRODUCTION, name: value})


def test_networks_and_a_management_port_are_accepted():
    validate({**DEFAULTS, **PRODUCTION, "METRICS_ALLOWED_ADDRESSES": ["10.0.0.0/8", "::1"], "MANAGEMENT_PORT": 9102,
              "LOG_FORMAT": "json", "LOG_LEVEL": "warning"})
