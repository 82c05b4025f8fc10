"""Helpers for the recovery and account-home tests: asking "can't sign in?" like a browser,
following the emailed link, and choosing a new password."""

from __future__ import annotations

import re

from tests.integration.signin.support import csrf_token
from tests.mail_support import path_of_link
from tests.robot_support import solve_robot_check

NEW_PASSWORD = "Tulipe-Orange-42-Ciel"
RESET_COOKIE = "passerelle_reset"


def ask_for_help(test_client, email: str, **headers):
    """Fill in "can't sign in?" with a solved not-a-robot check; returns the POST response."""
    page = test_client.get("/signin/help", headers=headers)
    assert page.status_code == 200, page.text
    return test_client.post(
        "/signin/help",
        data={"csrf_token": csrf_token(page.text), "email": email, "altcha": solve_robot_check(test_client)},
        headers=headers,
    )


def reset_path(message) -> str:
    return path_of_link(message, "/signin/reset/")


def open_reset_link(test_client, path: str):
    """Open the emailed link; it sends the browser on to the form page. Returns that page."""
    opened = test_client.get(path)
    assert opened.status_code == 303, opened.text
    assert opened.headers["Location"] == "/signin/reset"
    return test_client.get("/signin/reset")


def choose_password(test_client, page, password: str = NEW_PASSWORD, confirm: str | None = None):
    return test_client.post(
        "/signin/reset",
        data={
            "csrf_token": csrf_token(page.text),
            "password": password,
            "confirm_password": password if confirm is None else confirm,
        },
    )


def without_csrf_token(html: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', 'name="csrf_token"', html)
