"""The app plus a test-only view that queues a message the way a feature's view does."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint, request
from jinja2 import ChoiceLoader, FileSystemLoader

from idp.extensions import csrf, db
from idp.mail.delivery import get_mail_service

FIXTURE_TEMPLATES = Path(__file__).resolve().parents[2] / "fixtures" / "templates"


@pytest.fixture
def app(app):
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(FIXTURE_TEMPLATES)])
    bp = Blueprint("mail_test", __name__)

    @bp.post("/test/queue/<locale>")
    def queue(locale):
        get_mail_service().enqueue(
            to=request.args.get("to", "Ana@Example.ca"), template="hello", locale=locale,
            context={"name": "Ana", "code": "654321", "link": "http://127.0.0.1:5000/activate?t=abc"},
        )
        db.session.commit()
        return "queued"

    csrf.exempt(bp)
    app.register_blueprint(bp)
    return app
