"""Action items across the manager's team, and the manager ticking off (or reopening) their
own: from the open-items page or a session page, each "mark done" confirmed first."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduler.models import ActionItem
from web import queries
from web.identity import signed_in
from web.item_marks import confirm_own_item_done, mark_own_item
from web.manager import bp
from web.services import cadence


@bp.get("/action-items")
@signed_in("manager")
def open_items() -> str:
    return render_template(
        "manager/open_items.html",
        items=queries.team_open_items(g.person),
        done=queries.own_done_items(g.person),
        today=cadence().now().astimezone(ZoneInfo(g.person.zone)).date(),
    )


def _back(item: ActionItem) -> str:
    """Back where the manager came from: the item's session page or the open items."""
    if request.values.get("back") == "session":
        return url_for("manager.session", session_id=item.session_id)
    return url_for("manager.open_items")


@bp.get("/action-items/<item_id>/done")
@signed_in("manager")
def confirm_item_done(item_id: str) -> Any:
    return confirm_own_item_done(
        item_id,
        mark_endpoint="manager.mark_item",
        back=_back,
        fields={"back": "session" if request.args.get("back") == "session" else "items"},
    )


@bp.post("/action-items/<item_id>")
@signed_in("manager")
def mark_item(item_id: str) -> Response:
    return redirect(_back(mark_own_item(item_id)))
