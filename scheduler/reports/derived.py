"""Rows the reports read that are derived from others, kept current by every flush.

- each rep's cadence facts (scheduler.reports.cadence_facts);
- each manager's weekly session and action-item counts (scheduler.reports.rollups).

After a flush writes its rows (and while their history is still readable), the keys it
touched are recomputed from the source rows on the flush's own connection: the derived
rows commit or roll back with the change, and no use case has to remember them.

Two transactions recomputing the same rep or manager could each count from a snapshot
without the other's change (PostgreSQL's READ COMMITTED) and the later write would drop the
earlier's. So on PostgreSQL the people rows of those reps and managers are locked first, in
id order (two flushes cannot deadlock on them); the counting statements then start after
any other recompute of the same rows has committed, and see its changes. SQLite has one
writer at a time.
"""

from __future__ import annotations

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from scheduler.models import Person, Series, Session
from scheduler.reports.cadence_facts import (
    refresh_cadence_facts,
    refresh_reps,
    reps_of_managers,
    touched_reps,
)
from scheduler.reports.rollups import (
    cascaded_keys,
    managers_of,
    rebuild_rollups,
    refresh_item_weeks,
    refresh_manager_weeks,
    touched_item_weeks,
    touched_manager_weeks,
)

_CASCADED = "cadence.derived.cascaded"  # Session.info key from before_flush to after_flush


def _lock(connection: Connection, person_ids: set[str]) -> None:
    if person_ids and connection.dialect.name == "postgresql":
        connection.execute(
            select(Person.id)
            .where(Person.id.in_(sorted(person_ids)))
            .order_by(Person.id)
            .with_for_update()
        )


def _before_flush(db: DbSession, _context: object, _instances: object) -> None:
    # Rows the database deletes with these (ON DELETE CASCADE) never reach the ORM: read
    # their keys now, while they are still there.
    ids: dict[type, list[str]] = {Session: [], Series: [], Person: []}
    for row in db.deleted:
        if type(row) in ids:
            ids[type(row)].append(row.id)
    if any(ids.values()):
        connection = db.connection()
        sessions, series, people = ids[Session], ids[Series], ids[Person]
        db.info[_CASCADED] = (
            reps_of_managers(connection, people),
            *cascaded_keys(connection, sessions=sessions, series=series, people=people),
        )


def _after_flush(db: DbSession, _context: object) -> None:
    cascaded_reps, cascaded_sessions, cascaded_items = db.info.pop(_CASCADED, (set(), set(), set()))
    reps = touched_reps(db) | cascaded_reps
    session_weeks = touched_manager_weeks(db) | cascaded_sessions
    series_weeks = touched_item_weeks(db)
    if not (reps or session_weeks or series_weeks or cascaded_items):
        return
    connection = db.connection()
    item_weeks = managers_of(connection, series_weeks) | cascaded_items
    _lock(connection, reps | {manager for _, manager, _ in session_weeks | item_weeks})
    refresh_reps(connection, reps)
    refresh_manager_weeks(connection, session_weeks)
    refresh_item_weeks(connection, item_weeks)


def keep_derived_rows(sessions: sessionmaker[DbSession]) -> None:
    """Keep the derived rows current in every session this factory makes (call it once).

    No ``event.contains`` guard: SQLAlchemy keys listeners by ``id()``, and a new factory
    can take the address of a collected one, so the guard would skip a needed listener.
    """
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_flush", _after_flush)


def rebuild_derived_rows(connection: Connection, org_id: str) -> None:
    """Recompute every derived row of one organisation (after a load that bypassed the ORM)."""
    refresh_cadence_facts(connection, org_id)
    rebuild_rollups(connection, org_id)


__all__ = ["keep_derived_rows", "rebuild_derived_rows"]
