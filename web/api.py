"""The JSON API under /api/v1 (placeholder until its routes land)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
