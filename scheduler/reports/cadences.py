"""Stopped cadences: manager–rep pairs with no 1:1 booked ahead, or none held for weeks.

Matt's case in the article: nothing on the calendar, nothing held, nobody notices. A pair
is every active rep with their current manager, so pairs never booked at all show too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from scheduler.intervals import utc
from scheduler.models import Organization, Person, UTCDateTime
from scheduler.reports.cursor import BadCursor, decode_cursor, encode_cursor
from scheduler.reports.skipped import MAX_PAGE_SIZE, PAGE_SIZE

DEFAULT_STOPPED_AFTER_WEEKS = 3


class StopReason(enum.StrEnum):
    # No live series: deleted or ended in the calendar, or never booked.
    NOT_BOOKED = "not_booked"
    # Still booked, but no 1:1 held (debriefed) for the organisation's ``stopped_after_weeks``.
    NOT_HELD = "not_held"


@dataclass(frozen=True)
class StoppedCadence:
    manager_id: str
    manager_name: str
    rep_id: str
    rep_name: str
    reason: StopReason
    last_held_at: datetime | None
    days_since_last_held: int | None  # ``None``: never held

    def as_dict(self) -> dict[str, Any]:
        return {
            "manager_id": self.manager_id,
            "manager_name": self.manager_name,
            "rep_id": self.rep_id,
            "rep_name": self.rep_name,
            "reason": self.reason.value,
            "last_held_at": self.last_held_at.isoformat() if self.last_held_at else None,
            "days_since_last_held": self.days_since_last_held,
        }


def stopped_cadences_query(
    org_id: str, *, now: datetime, stopped_after_weeks: int, manager_id: str | None = None
) -> Select[*tuple[Any, ...]]:
    """The stopped pairs, least recently held first (never held before anything).

    One row per rep: the pair's facts are kept on the rep's row (scheduler.reports.
    cadence_facts), so this is a scan of the organisation's reps, not of their sessions.
    """
    rep = aliased(Person, name="rep")
    manager = aliased(Person, name="manager")
    today = utc(now).date()
    cutoff = utc(now) - timedelta(weeks=stopped_after_weeks)
    booked = rep.cadence_booked_through >= today
    last_held = rep.cadence_last_held_at
    query = (
        select(
            manager.id.label("manager_id"),
            manager.name.label("manager_name"),
            rep.id.label("rep_id"),
            rep.name.label("rep_name"),
            func.coalesce(booked, False).label("booked"),
            last_held.label("last_held_at"),
        )
        .join(manager, manager.id == rep.manager_id)
        .where(
            rep.organization_id == org_id,
            manager.organization_id == org_id,
            rep.is_rep.is_(True),
            rep.active.is_(True),
            or_(
                rep.cadence_booked_through.is_(None),
                rep.cadence_booked_through < today,
                # Booked, nothing held lately, and not just booked: its first 1:1 is due.
                and_(
                    or_(last_held.is_(None), last_held < cutoff),
                    rep.cadence_first_start < cutoff,
                ),
            ),
        )
        .order_by(last_held.asc().nulls_first(), rep.name, rep.id)
    )
    if manager_id is not None:
        query = query.where(rep.manager_id == manager_id)
    return query


def _after(query: Select[*tuple[Any, ...]], cursor: str) -> Select[*tuple[Any, ...]]:
    """``query`` resumed after the row ``cursor`` names (its order: nulls first)."""
    last, name, rep_id = decode_cursor(cursor, 3)
    if name is None or rep_id is None:
        raise BadCursor(cursor)
    columns = query.selected_columns
    held = columns.last_held_at
    later_name = tuple_(columns.rep_name, columns.rep_id) > tuple_(
        literal(name, String()), literal(rep_id, String())
    )
    if last is None:
        return query.where(or_(held.is_not(None), and_(held.is_(None), later_name)))
    try:
        instant = datetime.fromisoformat(last)
    except ValueError as error:
        raise BadCursor(cursor) from error
    if instant.tzinfo is None:
        raise BadCursor(cursor)
    at = literal(instant, UTCDateTime())
    return query.where(held.is_not(None), or_(held > at, and_(held == at, later_name)))


@dataclass(frozen=True)
class StoppedPage:
    rows: list[StoppedCadence]
    next_cursor: str | None  # ``None`` on the last page

    def as_dict(self) -> dict[str, Any]:
        return {"rows": [row.as_dict() for row in self.rows], "next_cursor": self.next_cursor}


def stopped_row(values: Any, *, now: datetime) -> StoppedCadence:
    row = values._mapping
    last = row["last_held_at"]
    return StoppedCadence(
        manager_id=row["manager_id"],
        manager_name=row["manager_name"],
        rep_id=row["rep_id"],
        rep_name=row["rep_name"],
        reason=StopReason.NOT_HELD if row["booked"] else StopReason.NOT_BOOKED,
        last_held_at=last,
        days_since_last_held=(utc(now).date() - last.date()).days if last else None,
    )


def _query(
    db: DbSession, org_id: str, now: datetime, manager_id: str | None
) -> Select[*tuple[Any, ...]]:
    org = db.get(Organization, org_id)
    weeks = org.stopped_after_weeks if org is not None else DEFAULT_STOPPED_AFTER_WEEKS
    return stopped_cadences_query(org_id, now=now, stopped_after_weeks=weeks, manager_id=manager_id)


def stopped_cadences(
    db: DbSession, org_id: str, *, now: datetime, manager_id: str | None = None
) -> list[StoppedCadence]:
    """Every stopped pair of the organisation (or of one manager's team) as of ``now``."""
    return [stopped_row(row, now=now) for row in db.execute(_query(db, org_id, now, manager_id))]


def count_stopped(
    db: DbSession, org_id: str, *, now: datetime, manager_id: str | None = None
) -> int:
    """How many pairs are stopped (the digest lists the first ones and says how many more)."""
    query = _query(db, org_id, now, manager_id).order_by(None).subquery()
    return db.scalar(select(func.count()).select_from(query)) or 0


def stopped_page(
    db: DbSession,
    org_id: str,
    *,
    now: datetime,
    manager_id: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> StoppedPage:
    """One page of stopped pairs, after ``cursor`` (from the previous page).

    Raises ``BadCursor`` for a cursor this module did not make.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = _query(db, org_id, now, manager_id)
    if cursor is not None:
        query = _after(query, cursor)
    # One row more than the page tells whether another page follows, without a COUNT.
    rows = [stopped_row(row, now=now) for row in db.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return StoppedPage(rows, _cursor(rows[-1]) if more else None)


def _cursor(row: StoppedCadence) -> str:
    last = row.last_held_at.isoformat() if row.last_held_at else None
    return encode_cursor(last, row.rep_name, row.rep_id)


__all__ = [
    "StopReason",
    "StoppedCadence",
    "StoppedPage",
    "count_stopped",
    "stopped_cadences",
    "stopped_cadences_query",
    "stopped_page",
    "stopped_row",
]
