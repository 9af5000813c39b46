"""The skipped-meeting list: every session not held, newest first, one keyset page at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, String, literal, select, tuple_
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from scheduler.models import Person, Session, UTCDateTime
from scheduler.outcomes import OUTCOMES_NOT_HELD, SessionOutcome
from scheduler.reports.cursor import BadCursor, decode_cursor, encode_cursor
from scheduler.reports.scope import NOT_HELD, ReportScope

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class SkippedFilter:
    """Narrowing beyond the scope: one rep, one manager's team (their reps), some outcomes."""

    rep_id: str | None = None
    team_of: str | None = None
    outcomes: frozenset[SessionOutcome] = OUTCOMES_NOT_HELD

    def __post_init__(self) -> None:
        if not self.outcomes or not self.outcomes <= OUTCOMES_NOT_HELD:
            raise ValueError(f"outcomes must be among {sorted(OUTCOMES_NOT_HELD)}")


ALL_SKIPPED = SkippedFilter()


@dataclass(frozen=True)
class SkippedRow:
    session_id: str
    series_id: str
    week_start: date
    scheduled_start: datetime
    outcome: SessionOutcome
    cancelled_by: str | None
    manager_id: str
    manager_name: str
    rep_id: str
    rep_name: str
    cancel_reason: str = ""  # why the manager cancelled the week, if they said

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "series_id": self.series_id,
            "week_start": self.week_start.isoformat(),
            "scheduled_start": self.scheduled_start.isoformat(),
            "outcome": self.outcome.value,
            "cancelled_by": self.cancelled_by,
            "manager_id": self.manager_id,
            "manager_name": self.manager_name,
            "rep_id": self.rep_id,
            "rep_name": self.rep_name,
            "cancel_reason": self.cancel_reason,
        }


@dataclass(frozen=True)
class SkippedPage:
    rows: list[SkippedRow]
    next_cursor: str | None  # ``None`` on the last page

    def as_dict(self) -> dict[str, Any]:
        return {"rows": [row.as_dict() for row in self.rows], "next_cursor": self.next_cursor}


def _cursor(row: SkippedRow) -> str:
    return encode_cursor(row.scheduled_start.isoformat(), row.session_id)


def _after(cursor: str) -> tuple[datetime, str]:
    start, session_id = decode_cursor(cursor, 2)
    try:
        instant = datetime.fromisoformat(start or "")
    except ValueError as error:
        raise BadCursor(cursor) from error
    if instant.tzinfo is None or not session_id:
        raise BadCursor(cursor)
    return instant, session_id


def skipped_query(
    scope: ReportScope, narrowing: SkippedFilter = ALL_SKIPPED
) -> Select[*tuple[Any, ...]]:
    """Every not-held session of the scope, newest first (the list and its CSV export)."""
    manager = aliased(Person, name="manager")
    rep = aliased(Person, name="rep")
    query = (
        select(
            Session.id,
            Session.series_id,
            Session.week_start,
            Session.scheduled_start,
            Session.outcome,
            Session.cancelled_by,
            Session.manager_id,
            manager.name,
            Session.rep_id,
            rep.name,
            Session.cancel_reason,
        )
        .join(manager, manager.id == Session.manager_id)
        .join(rep, rep.id == Session.rep_id)
        .where(
            scope.sessions(),
            # Always the full set too, so the partial index ix_sessions_not_held applies.
            Session.outcome.in_(NOT_HELD),
            # Index-friendly bounds around the week range (see ReportScope.starts_from).
            Session.scheduled_start >= scope.starts_from,
            Session.scheduled_start < scope.starts_before,
        )
        .order_by(Session.scheduled_start.desc(), Session.id.desc())
    )
    if narrowing.outcomes != OUTCOMES_NOT_HELD:
        query = query.where(Session.outcome.in_(sorted(o.value for o in narrowing.outcomes)))
    if narrowing.rep_id is not None:
        query = query.where(Session.rep_id == narrowing.rep_id)
    if narrowing.team_of is not None:
        team = select(Person.id).where(
            Person.organization_id == scope.org_id, Person.manager_id == narrowing.team_of
        )
        query = query.where(Session.rep_id.in_(team))
    return query


def skipped_row(values: Iterable[Any]) -> SkippedRow:
    (session_id, series_id, week, start, outcome, by, manager_id, manager, rep_id, rep,
     reason) = values  # fmt: skip
    return SkippedRow(
        session_id, series_id, week, start, SessionOutcome(outcome), by, manager_id,
        manager, rep_id, rep, reason,
    )  # fmt: skip


def skipped_sessions(
    db: DbSession,
    scope: ReportScope,
    narrowing: SkippedFilter = ALL_SKIPPED,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> SkippedPage:
    """One page of not-held sessions, newest first, after ``cursor`` (from the last page).

    Raises ``BadCursor`` for a cursor this module did not make.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = skipped_query(scope, narrowing)
    if cursor is not None:
        start, session_id = _after(cursor)
        # Typed binds: SQLite compares UTCDateTime as naive text, so the bind needs its type.
        after = tuple_(literal(start, UTCDateTime()), literal(session_id, String()))
        query = query.where(tuple_(Session.scheduled_start, Session.id) < after)
    # One row more than the page tells whether another page follows, without a COUNT.
    rows = [skipped_row(row) for row in db.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return SkippedPage(rows, _cursor(rows[-1]) if more else None)


__all__ = [
    "ALL_SKIPPED",
    "PAGE_SIZE",
    "BadCursor",
    "SkippedFilter",
    "SkippedPage",
    "SkippedRow",
    "skipped_query",
    "skipped_row",
    "skipped_sessions",
]
