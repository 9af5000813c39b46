"""'Propose for every unbooked rep': one availability read for the manager and all of them,
one ranking per pair, and one page to book each pair from."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, url_for

from scheduler.usecases.proposals import propose_slots
from web import queries
from web.availability import notes, stored_reader
from web.identity import signed_in
from web.manager import bp
from web.manager.booking import tomorrow
from web.providers import CalendarUnavailable, manager_calendar_row
from web.services import cadence

# Per rep: enough to choose from without turning a team of twenty into a wall of cards.
CANDIDATES_PER_REP = 3


@bp.get("/team/proposals")
@signed_in("manager")
def team_proposals() -> Any:
    unbooked = [member.rep for member in queries.team(g.person) if member.series is None]
    first_day = tomorrow(g.person.zone)
    read = stored_reader(g.person)
    proposals: dict[str, Any] = {}
    problem = None
    if unbooked:
        try:
            manager_calendar_row(g.person.organization_id, g.person.id)
            proposals = {
                proposal.rep_id: proposal.candidates
                for proposal in propose_slots(
                    cadence().database,
                    read,
                    org_id=g.person.organization_id,
                    manager_id=g.person.id,
                    rep_ids=[rep.id for rep in unbooked],
                    first_day=first_day,
                    limit=CANDIDATES_PER_REP,
                )
            }
        except CalendarUnavailable as error:
            problem = str(error)
    return render_template(
        "manager/team_proposals.html",
        reps=unbooked,
        proposals=proposals,
        first_day=first_day,
        problem=problem,
        availability=notes(read, [g.person, *unbooked]) if read.known else [],
        availability_problems=read.problems,
        refresh_next=url_for("manager.team_proposals"),
        refresh_reps=[rep.id for rep in unbooked],
    )
