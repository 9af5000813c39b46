"""The manager's pages: the team, slot proposals and booking, series, sessions, debriefs."""

from flask import Blueprint

bp = Blueprint("manager", __name__, url_prefix="/manager")

from web.manager import (  # noqa: E402, F401  (routes register on bp)
    action_items,
    agenda,
    availability,
    booking,
    sessions,
    team,
    team_proposals,
)
