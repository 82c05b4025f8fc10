"""Startup checks of the settings that belong to a feature: the partners file and the terms
folder are read and checked before the app serves anything.

They live here, not in idp.config, so that config imports no feature package while the
features import config (ConfigError, PROJECT_ROOT): no import circle (issue 9, item 20).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from idp import config
from idp.config import ConfigError
from idp.federation.partners import load_partners
from idp.terms.documents import bundled_versions


def validate(settings: Mapping[str, Any]) -> None:
    """config.validate(), then each feature's own check. Raises ConfigError."""
    config.validate(settings)
    _validate_partners(settings)
    _validate_terms_directory(settings)


def _validate_partners(settings: Mapping[str, Any]) -> None:
    """The partners file (issue 5): idp.federation.partners."""
    for name in ("PARTNER_HTTP_TIMEOUT", "PARTNER_STATE_TTL", "PARTNER_METADATA_CACHE_TTL", "PARTNER_KEYS_MIN_REFRESH"):
        value = settings.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{name} must be a positive number of seconds")
    if not settings.get("PARTNERS_ENABLED", True):
        return  # the file is not read at all (idp.federation.views.init_app)
    for partner in load_partners(settings.get("PARTNERS_FILE")).values():
        if partner.issuer.rstrip("/") == str(settings.get("OIDC_ISSUER") or "").rstrip("/"):
            # Signing in with oneself only loops back here with an error (issue 9 #14).
            raise ConfigError(f"PARTNERS_FILE partner {partner.id!r}: its issuer is this server's own OIDC_ISSUER")


def _validate_terms_directory(settings: Mapping[str, Any]) -> None:
    if settings.get("TERMS_DIRECTORY") and not bundled_versions(Path(settings["TERMS_DIRECTORY"])):
        raise ConfigError(
            "TERMS_DIRECTORY must be a folder holding at least one version folder with "
            "terms.fr.html, terms.en.html, privacy.fr.html and privacy.en.html"
        )
