"""'Refresh now': read the manager's and their reps' calendars again, then back to the page."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from scheduler.jobs import tasks
from scheduler.usecases.stored_availability import refresh_people
from web import queries
from web.forms import safe_next
from web.identity import signed_in
from web.manager import bp
from web.services import cadence
from web.webhooks import pipeline


@bp.post("/availability/refresh")
@signed_in("manager")
def refresh_availability() -> Response:
    """The manager and the reps named (``rep_id``, repeatable; none: the whole team), one
    read per calendar connection, whatever the age of what is stored."""
    asked = request.form.getlist("rep_id")
    reps = (
        [queries.my_rep(g.person, rep_id) for rep_id in asked]
        if asked
        else [member.rep for member in queries.team(g.person)]
    )
    services = cadence()
    changes, problems = refresh_people(
        services.database,
        services.providers,
        org_id=g.person.organization_id,
        manager_id=g.person.id,
        people=[g.person, *reps],
        weeks=queries.organization(g.person.organization_id).horizon_weeks,
        now=services.now(),
    )
    # Busy time that appeared may clash with a booked week: defended like any refresh's.
    tasks.defend_after_refresh(pipeline(), g.person.organization_id, changes)
    if problems:
        flash(f"Some calendars could not be read: {'; '.join(problems)}.", "warn")
    else:
        flash("Availability read just now.", "ok")
    return redirect(safe_next(request.form.get("next")) or url_for("manager.team"))
