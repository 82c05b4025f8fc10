"""Per-app collaborators (settings, clock, hashers) for views to hand to services.

Only views and app wiring import this module; services receive these objects as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from idp.clock import Clock
from idp.config import Settings
from idp.security.encryption import SecretBox
from idp.security.passwords import PasswordHasher
from idp.security.secrets import KeyedHasher


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    hasher: KeyedHasher
    passwords: PasswordHasher
    secret_box: SecretBox


def install(app: Flask, settings: Settings, clock: Clock) -> AppContext:
    context = AppContext(
        settings=settings,
        clock=clock,
        hasher=KeyedHasher(settings.SECRETS_HASH_KEY),
        passwords=PasswordHasher(**({"time_cost": 1, "memory_cost": 1024} if settings.ENV == "test" else {})),
        secret_box=SecretBox(settings.KEYS_ENCRYPTION_KEY),
    )
    app.extensions["idp"] = context
    return context


def app_context() -> AppContext:
    return current_app.extensions["idp"]
