"""What the stopped-cadence report needs to know of each rep's pair, kept on the rep's row.

A pair is a rep and their current manager. Three facts decide whether it has stopped
(scheduler.reports.cadences), and each would otherwise be an index probe per rep at
every look at the report (16,000 reps in bench/reports.py):

- ``cadence_first_start``: the first scheduled 1:1 of the pair's live series, or of the
  series it continues (a new standing time keeps the cadence); a pair booked last week is
  not stopped, it has not started, even if an earlier series of theirs was deleted;
- ``cadence_booked_through``: the last day a live series books (``date.max``: no end), or
  ``None`` when no series of the pair is live;
- ``cadence_last_held_at``: the pair's last held 1:1.

They are derived data: after every flush that touches a pair's series, sessions or the
rep's manager, the touched reps' facts are recomputed from those rows in the same
transaction (three index probes per rep; scheduler.reports.derived), so no use case has to
remember them and a rolled-back change leaves them as they were. ``refresh_cadence_facts``
recomputes a whole organisation (after a bulk load that bypassed the ORM).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Date, Update, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from scheduler.models import LIVE_SERIES, Person, Series, Session
from scheduler.outcomes import SessionOutcome
from scheduler.reports.flushed import changed, values

OPEN_ENDED = date.max  # cadence_booked_through of a series with no last day

# The columns whose change can change a pair's facts.
_INPUTS: dict[type, tuple[str, ...]] = {
    Session: ("rep_id", "manager_id", "scheduled_start", "outcome"),
    Series: ("rep_id", "manager_id", "status", "until", "previous_series_id"),
}
_CHUNK = 500  # reps per UPDATE: well under every driver's bound-parameter limit


def _facts() -> dict[str, Any]:
    """The three facts as subqueries correlated to the ``people`` row being updated."""
    pair_session = and_(Session.rep_id == Person.id, Session.manager_id == Person.manager_id)
    live_series = and_(
        Series.rep_id == Person.id,
        Series.manager_id == Person.manager_id,
        Series.status.in_(LIVE_SERIES),
    )
    last_day = func.coalesce(Series.until, literal(OPEN_ENDED, Date()))
    # The series the pair's cadence is judged by: the live one and the one it continues.
    live = aliased(Series, name="live")
    judged = select(live.id).where(
        live.rep_id == Person.id,
        live.manager_id == Person.manager_id,
        live.status.in_(LIVE_SERIES),
    )
    continued = select(live.previous_series_id).where(
        live.rep_id == Person.id,
        live.manager_id == Person.manager_id,
        live.status.in_(LIVE_SERIES),
    )
    return {
        "cadence_first_start": select(func.min(Session.scheduled_start))
        .where(pair_session, or_(Session.series_id.in_(judged), Session.series_id.in_(continued)))
        .scalar_subquery(),
        "cadence_booked_through": select(func.max(last_day)).where(live_series).scalar_subquery(),
        "cadence_last_held_at": select(func.max(Session.scheduled_start))
        .where(pair_session, Session.outcome == SessionOutcome.HELD.value)
        .scalar_subquery(),
    }


def _refresh(where: Any) -> Update:
    return update(Person).where(where).values(**_facts())


def refresh_reps(connection: Connection, rep_ids: Iterable[str]) -> None:
    """Recompute the facts of these reps' pairs from their series and sessions."""
    ids = sorted(set(rep_ids))
    for first in range(0, len(ids), _CHUNK):
        connection.execute(_refresh(Person.id.in_(ids[first : first + _CHUNK])))


def refresh_cadence_facts(connection: Connection, org_id: str) -> None:
    """Recompute every rep's facts in one organisation (one statement)."""
    connection.execute(_refresh(and_(Person.organization_id == org_id, Person.is_rep.is_(True))))


def touched_reps(db: DbSession) -> set[str]:
    """Reps whose facts the rows being flushed may change (new, deleted, or inputs changed)."""
    reps: set[str] = set()
    for row in chain(db.new, db.deleted):
        if isinstance(row, Session | Series):
            reps |= values(row, "rep_id")
    for row in db.dirty:
        if isinstance(row, Session | Series) and changed(row, _INPUTS[type(row)]):
            reps |= values(row, "rep_id")
        elif isinstance(row, Person) and changed(row, ("manager_id",)):
            reps.add(row.id)
    return reps


def reps_of_managers(connection: Connection, people: list[str]) -> set[str]:
    """Reps of these managers: deleting a manager leaves them without one (ON DELETE SET NULL)."""
    if not people:
        return set()
    return set(connection.scalars(select(Person.id).where(Person.manager_id.in_(people))))


__all__ = [
    "OPEN_ENDED",
    "refresh_cadence_facts",
    "refresh_reps",
    "reps_of_managers",
    "touched_reps",
]
