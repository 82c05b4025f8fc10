"""The injected clock: services ask it for the time so tests can move time without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from idp.db import utcnow

Clock = Callable[[], datetime]

system_clock: Clock = utcnow
