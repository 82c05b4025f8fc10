"""Passerelle, an OpenID Connect identity provider.

`granian idp:create_app` (config/granian.env) or gunicorn serves it; `idp` is the operators'
command line. The app is assembled in idp/app.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from idp.clock import Clock


def create_app(overrides: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Build the app (idp.app.create_app). Imported here, on demand, so that importing any
    idp module does not import every feature's views."""
    from idp.app import create_app as assemble

    return assemble(overrides, clock)
