"""The portal kit: what both portals share stays generic (no Flask where none is needed, no
portal's names), and its checks hold on their own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask, Response

from clients.portal_kit.db import UTCDateTime
from clients.portal_kit.id_token import has_two_factor, subject
from clients.portal_kit.web import apply_security_headers, origin_of
from tests.unit.test_layering import imported_modules, is_flask

KIT = Path(__file__).resolve().parents[3] / "clients" / "portal_kit"
FLASK_FREE = ("db.py", "id_token.py", "state_store.py", "migrations.py")
MFA = "urn:passerelle:acr:mfa"


@pytest.mark.parametrize("name", FLASK_FREE)
def test_the_kit_services_import_no_flask_and_no_portal(name):
    modules = imported_modules(KIT / name)
    assert not [module for module in modules if is_flask(module)]
    assert not [module for module in modules if module.startswith("clients.") and not module.startswith("clients.portal_kit")]


def test_two_factor_needs_the_level_and_mfa_in_a_list_of_methods():
    assert has_two_factor({"acr": MFA, "amr": ["pwd", "mfa"]}, MFA, [])
    assert not has_two_factor({"acr": MFA, "amr": "mfa"}, MFA, [])
    assert not has_two_factor({"acr": MFA, "amr": ["pwd"]}, MFA, [])
    assert not has_two_factor({"acr": "urn:passerelle:acr:pwd", "amr": ["mfa"]}, MFA, [])


def test_subject_is_a_non_empty_string():
    assert subject({"sub": "abc"}) == "abc"
    assert subject({"sub": ""}) is None and subject({"sub": 5}) is None and subject({}) is None


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)


def test_security_headers_are_defaults_a_view_can_override():
    with Flask(__name__).test_request_context():
        response = Response("x", headers={"Cache-Control": "private"})
        apply_security_headers(response, form_action_origin="https://id.example", https=True)
    assert "form-action 'self' https://id.example" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private"
    assert response.headers["Strict-Transport-Security"] and response.headers["X-Frame-Options"] == "DENY"
    assert origin_of("https://id.example:8443/path/x") == "https://id.example:8443"
