"""What the other features' sign-in steps share with the sign-in's own pages: the
per-address rate limit and the "sign-in ended" page. Kept out of signin/views.py so that
other features' views never import a views module.
"""

from __future__ import annotations

from flask import current_app, render_template


def signin_rate_limit() -> str:
    """Per-address limit on every guessable sign-in POST (Flask-Limiter syntax). Per-account
    counting is idp.accounts.throttle; this one slows one address trying many accounts."""
    return current_app.config["SIGNIN_RATE_LIMIT"]


def transaction_ended() -> tuple[str, int]:
    """The sign-in this browser was in has expired, ended or never existed: say so plainly."""
    return render_template("signin/expired.html"), 400
