"""OIDC endpoints (stub)."""

from flask import Blueprint

bp = Blueprint("oidc", __name__)
