"""Views of the signin feature (stub)."""

from flask import Blueprint

bp = Blueprint("signin", __name__)
