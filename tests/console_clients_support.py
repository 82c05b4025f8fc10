"""Contexts for the console's relying-party templates (issue 16), for the every-template
test (tests/unit/test_translations.py, through tests/console_support.py)."""

from __future__ import annotations

from datetime import UTC, datetime


def client_template_contexts() -> dict:
    from flask_babel import lazy_gettext as _l

    from idp.console.client_forms import (
        ClientForm,
        InitialTokenForm,
        NewClientForm,
        RotateSecretForm,
    )
    from idp.console.client_views import (
        AUTH_METHOD_NAMES,
        OVERLAP_NAMES,
        STATE_ACTIONS,
        _choice_lists,
        _choices,
    )
    from idp.console.token_views import LIFETIME_NAMES
    from idp.console.clients import ClientRow
    from idp.console.forms import ReasonForm
    from idp.oidc.models import Client, InitialAccessToken

    when = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    record = Client(client_id="cPortail", name="Portail <b>des</b> documents", redirect_uris=["https://rp.example/cb"],
                    post_logout_redirect_uris=[], grant_types=["authorization_code"], scope="openid email",
                    token_endpoint_auth_method="client_secret_basic", is_public=False, subject_type="pairwise",
                    sector_identifier="rp.example", require_consent=False, require_pkce=True,
                    jwks={"keys": [{"kty": "EC"}]}, created_at=when, updated_at=when)
    row = ClientRow("cPortail", record.name, "active", ("authorization_code",), "client_secret_basic", when, record, when)
    token = InitialAccessToken(id=3, token_hash="x", created_at=when, expires_at=when)
    return {
        "console/clients.html": lambda: {"clients": [row], "notice": None},
        "console/client.html": lambda: {"row": row, "notice": None, "auth_method_names": AUTH_METHOD_NAMES},
        "console/client_form.html": lambda: {"form": NewClientForm(), "row": None, "heading": _l("Register a relying party"),
                                             **_choice_lists()},
        "console/client_secret.html": lambda: {"row": row, "secret": "s3cret", "created": False, "until": when},
        "console/client_rotate.html": lambda: {"form": RotateSecretForm(), "row": row, "choices": _choices(OVERLAP_NAMES)},
        "console/client_action.html": lambda: {"form": ReasonForm(), "row": row, "action": "disable",
                                               "title": STATE_ACTIONS["disable"][0],
                                               "explanation": STATE_ACTIONS["disable"][1]},
        "console/client_tokens.html": lambda: {"form": InitialTokenForm(), "tokens": [token],
                                               "choices": _choices(LIFETIME_NAMES), "notice": None},
        "console/client_token_issued.html": lambda: {"token": "t0ken", "record": token, "registration_on": False},
        "console/client_token_revoke.html": lambda: {"form": ReasonForm(), "record": token, "token_id": 3},
        "console/_client_fields.html": lambda: {"edit_form": ClientForm()},
    }
