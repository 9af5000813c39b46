"""The manager's pages: the team, slot proposals and booking, series, sessions, debriefs."""

from flask import Blueprint

bp = Blueprint("manager", __name__, url_prefix="/manager")

from web.manager import action_items, agenda, booking, sessions, team  # noqa: E402, F401  (routes register on bp)
