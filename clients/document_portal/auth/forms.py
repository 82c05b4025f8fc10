"""The sign-out button's form (CSRF only)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class SignoutForm(FlaskForm):
    pass
