"""Structured logs (issue 15): one JSON line per record, a request id on every request's
lines and in its security events, and no secret or full email address in any line."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.ops.logs import JsonFormatter
from tests.integration.oidc.test_code_flow import exchange
from tests.oidc_support import (
    PASSWORD,
    PKCE_VERIFIER,
    SignIn,
    authorization_params,
    basic_auth,
    csrf_token,
    make_client,
    make_user,
)
from tests.signin_support import latest_signin_code

EMAIL = "zoe.secret-person@example.ca"


# The test's own SMTP server (aiosmtpd) logs every message it receives: not Passerelle's.
TEST_SINK_LOGGERS = ("mail.log",)


@pytest.fixture
def log_lines(caplog):
    """Every record of the run at DEBUG and above, as the JSON line LOG_FORMAT=json writes."""
    caplog.set_level(logging.DEBUG)
    formatter = JsonFormatter()
    return lambda: [formatter.format(record) for record in caplog.records if record.name not in TEST_SINK_LOGGERS]


def signin_page(client, rp):
    """The password page of a new authorization request."""
    response = client.get("/authorize?" + urlencode(authorization_params(rp)))
    return client.get(response.headers["Location"])


@pytest.mark.settings(LOG_FORMAT="json", LOG_LEVEL="DEBUG")
def test_no_secret_reaches_a_log_line(app, client, log_lines):
    """A sign-in with password and emailed code, a code exchange, a refresh and a failed
    sign-in: none of the password, code, tokens, client secret, cookie or address is logged."""
    rp = make_client(app)
    make_user(app, email=EMAIL)
    params = authorization_params(rp, scope="openid offline_access")
    location = SignIn(client).code_for(params, email=EMAIL)
    emailed_code = latest_signin_code(EMAIL)
    tokens = exchange(client, rp, location["code"]).get_json()
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers=basic_auth(rp)).get_json()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    page = signin_page(client, rp)
    wrong_password = "Wrong-Horse-Battery-7"
    assert client.post("/signin", data={"email": EMAIL, "password": wrong_password,
                                         "csrf_token": csrf_token(page.text)}).status_code in (200, 422)

    secrets = {
        "password": PASSWORD, "wrong password": wrong_password, "emailed code": emailed_code,
        "authorization code": location["code"], "PKCE verifier": PKCE_VERIFIER,
        "access token": tokens["access_token"], "refresh token": tokens["refresh_token"],
        "ID token": tokens["id_token"], "new access token": refreshed["access_token"],
        "new refresh token": refreshed["refresh_token"], "client secret": rp.client_secret,
        "email": EMAIL, "email's local part": EMAIL.split("@")[0],
    }
    if cookie is not None:
        secrets["session cookie"] = cookie.value
    lines = log_lines()
    assert len(lines) > 10, "the test must see the requests' log lines"
    for line in lines:
        json.loads(line)  # one JSON object per line
        assert "\n" not in line
        for name, secret in secrets.items():
            assert secret not in line, f"the {name} is in a log line: {line}"


@pytest.mark.settings(LOG_FORMAT="json")
def test_request_id_from_a_valid_header_is_echoed_logged_and_audited(app, client, log_lines):
    make_user(app, email=EMAIL)
    page = signin_page(client, make_client(app))
    response = client.post("/signin", data={"email": EMAIL, "password": "Wrong-Horse-Battery-7",
                                            "csrf_token": csrf_token(page.text)},
                           headers={"X-Request-Id": "proxy-4f1c2a9e-0001"})
    assert response.headers["X-Request-Id"] == "proxy-4f1c2a9e-0001"
    with app.app_context():
        event = db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.SIGNIN_FAILURE))).one()
        assert event.details["request_id"] == "proxy-4f1c2a9e-0001"
    entries = [json.loads(line) for line in log_lines()]
    ours = [entry for entry in entries if entry.get("request_id") == "proxy-4f1c2a9e-0001"]
    assert any(entry["logger"] == "idp.request" and entry["endpoint"] == "signin.password" for entry in ours), ours


@pytest.mark.parametrize("header", [None, "short", "has spaces in it", "x" * 200, "line\u2028break-aaaaaaaa"])
def test_a_missing_or_invalid_request_id_is_replaced_by_a_new_one(client, header):
    headers = {"X-Request-Id": header} if header else {}
    first = client.get("/health/live", headers=headers).headers["X-Request-Id"]
    second = client.get("/health/live", headers=headers).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_text_format_leaves_logging_alone(app):
    from idp.ops.logs import _PasserelleHandler

    assert not [handler for handler in logging.getLogger().handlers if isinstance(handler, _PasserelleHandler)]
