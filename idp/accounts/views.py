"""Views of the accounts feature (stub)."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
