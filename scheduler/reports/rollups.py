"""Per-manager weekly counts, so the overview adds up thousands of rows instead of reading
hundreds of thousands of sessions and action items (bench/reports.py: 2,000 managers).

- ``manager_weeks``: a manager's week of sessions, counted by outcome (``SessionCounts``).
- ``manager_item_weeks``: items of a manager's series created in one UTC week, per due date:
  created, completed, completed on time, still open. "Overdue as of today" is the sum of
  ``open`` over the rows due before today, so the rollup does not age.

Both are derived data, recomputed for the touched (manager, week) keys after every flush
that changes their inputs (scheduler.reports.derived), from the source rows, so a rollup
row is always what counting its sessions or items would give. ``rebuild_rollups`` counts a
whole organisation again (after a bulk load that bypassed the ORM).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session as DbSession

from scheduler.models import ActionItem, ManagerItemWeek, ManagerWeek, Series, Session
from scheduler.outcomes import CancelledBy, SessionOutcome
from scheduler.reports.flushed import changed, values
from scheduler.reports.scope import NOT_EXPECTED, utc_date, utc_monday

Key = tuple[str, str, date]  # (organization_id, manager_id, week_start)

# The columns whose change can change a rollup row.
_SESSION_INPUTS = ("manager_id", "week_start", "outcome", "cancelled_by")
_ITEM_INPUTS = ("series_id", "created_at", "due_date", "done_at")


def _count(condition: Any) -> Any:
    return func.count().filter(condition)


def session_counts_columns() -> list[Any]:
    """Aggregate columns over ``sessions``, one per ``SessionCounts`` field, in field order."""
    outcome = Session.outcome
    by = func.coalesce(Session.cancelled_by, CancelledBy.UNKNOWN.value)
    cancelled = outcome == SessionOutcome.CANCELLED.value
    return [
        _count(outcome.not_in(NOT_EXPECTED)).label("expected"),
        *(
            _count(outcome == kind.value).label(kind.value)
            for kind in (
                SessionOutcome.HELD,
                SessionOutcome.UNDOCUMENTED,
                SessionOutcome.MOVED,
                SessionOutcome.RESCHEDULED,
            )
        ),
        _count(and_(cancelled, by == CancelledBy.MANAGER.value)).label("cancelled_by_manager"),
        _count(and_(cancelled, by == CancelledBy.REP.value)).label("cancelled_by_rep"),
        # Anything else a sync wrote (or nothing) reads as "unknown", so the split adds up.
        _count(
            and_(cancelled, by.not_in((CancelledBy.MANAGER.value, CancelledBy.REP.value)))
        ).label("cancelled_by_unknown"),
        *(
            _count(outcome == kind.value).label(kind.value)
            for kind in (
                SessionOutcome.DECLINED,
                SessionOutcome.EXCUSED,
                SessionOutcome.STOPPED,
                SessionOutcome.UPCOMING,
            )
        ),
    ]


def _item_counts_columns() -> list[Any]:
    done = ActionItem.done_at.is_not(None)
    return [
        func.count().label("created"),
        _count(done).label("completed"),
        _count(and_(done, utc_date(ActionItem.done_at) <= ActionItem.due_date)).label(
            "completed_on_time"
        ),
        _count(ActionItem.done_at.is_(None)).label("open"),
    ]


def monday_of(instant: datetime) -> date:
    """The Monday (UTC) of the week ``instant`` falls in: an item's week in the rollup."""
    day = instant.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _by_week(keys: Iterable[Key]) -> dict[tuple[str, date], list[str]]:
    """The keys' managers per organisation and week: one recount statement each."""
    managers: dict[tuple[str, date], set[str]] = defaultdict(set)
    for org_id, manager_id, week in keys:
        managers[(org_id, week)].add(manager_id)
    return {org_week: sorted(ids) for org_week, ids in sorted(managers.items())}


def _session_counts(*where: Any) -> Select[Any]:
    """Sessions counted per manager and week, in week order (as rows written week by week
    would lie: the overview reads a range of weeks)."""
    return (
        select(Session.organization_id, Session.manager_id, Session.week_start)
        .add_columns(*session_counts_columns())
        .where(*where)
        .group_by(Session.organization_id, Session.manager_id, Session.week_start)
        .order_by(Session.week_start)
    )


def _item_counts(*where: Any) -> Select[Any]:
    """Items counted per manager of their series, UTC week of creation and due date."""
    week = utc_monday(ActionItem.created_at)
    return (
        select(
            Series.organization_id, Series.manager_id, week.label("week_start"), ActionItem.due_date
        )
        .add_columns(*_item_counts_columns())
        .join(Series, Series.id == ActionItem.series_id)
        .where(*where)
        .group_by(Series.organization_id, Series.manager_id, week, ActionItem.due_date)
        .order_by(week)
    )


def _recount(connection: Connection, rollup: Any, gone: Any, counts: Select[Any]) -> None:
    """Replace the ``rollup`` rows ``gone`` selects by the rows ``counts`` computes."""
    connection.execute(delete(rollup).where(gone))
    names = [column.name for column in counts.selected_columns]
    connection.execute(insert(rollup).from_select(names, counts))


def refresh_manager_weeks(connection: Connection, keys: Iterable[Key]) -> None:
    """Count these managers' weeks of sessions again (a week with none has no row)."""
    for (org_id, week), managers in _by_week(keys).items():
        rows = and_(ManagerWeek.week_start == week, ManagerWeek.manager_id.in_(managers))
        counts = _session_counts(
            Session.organization_id == org_id,
            Session.week_start == week,
            Session.manager_id.in_(managers),
        )
        _recount(connection, ManagerWeek, rows, counts)


def refresh_item_weeks(connection: Connection, keys: Iterable[Key]) -> None:
    """Count the items these managers' series created in these UTC weeks again."""
    for (org_id, week), managers in _by_week(keys).items():
        rows = and_(ManagerItemWeek.week_start == week, ManagerItemWeek.manager_id.in_(managers))
        begin = datetime.combine(week, time(), UTC)
        counts = _item_counts(
            Series.organization_id == org_id,
            Series.manager_id.in_(managers),
            ActionItem.created_at >= begin,
            ActionItem.created_at < begin + timedelta(weeks=1),
        )
        _recount(connection, ManagerItemWeek, rows, counts)


def rebuild_rollups(connection: Connection, org_id: str) -> None:
    """Count every session and item of the organisation again (two statements each)."""
    sessions = _session_counts(Session.organization_id == org_id)
    _recount(connection, ManagerWeek, ManagerWeek.organization_id == org_id, sessions)
    items = _item_counts(ActionItem.organization_id == org_id)
    _recount(connection, ManagerItemWeek, ManagerItemWeek.organization_id == org_id, items)


def touched_manager_weeks(db: DbSession) -> set[Key]:
    """(organisation, manager, week) of every session this flush adds, deletes or changes."""
    keys: set[Key] = set()
    for row in chain(db.new, db.deleted, db.dirty):
        if isinstance(row, Session) and (row not in db.dirty or changed(row, _SESSION_INPUTS)):
            keys |= {
                (row.organization_id, manager, week)
                for manager in values(row, "manager_id")
                for week in values(row, "week_start")
            }
    return keys


def touched_item_weeks(db: DbSession) -> set[tuple[str, date]]:
    """(series, UTC week) of every action item this flush adds, deletes or changes."""
    keys: set[tuple[str, date]] = set()
    for row in chain(db.new, db.deleted, db.dirty):
        if isinstance(row, ActionItem) and (row not in db.dirty or changed(row, _ITEM_INPUTS)):
            keys |= {
                (series, monday_of(created))
                for series in values(row, "series_id")
                for created in values(row, "created_at")
            }
    return keys


def cascaded_keys(
    connection: Connection, *, sessions: list[str], series: list[str], people: list[str]
) -> tuple[set[Key], set[Key]]:
    """Session and item keys of the rows the database will delete with these (ON DELETE
    CASCADE): the ORM never sees those, so they are read before the flush deletes them."""
    session_keys: set[Key] = set()
    if series or people:
        rows = connection.execute(
            select(Session.organization_id, Session.manager_id, Session.week_start).where(
                or_(
                    Session.series_id.in_(series),
                    Session.rep_id.in_(people),
                    Session.manager_id.in_(people),
                )
            )
        )
        session_keys = {(org, manager, week) for org, manager, week in rows}
    item_keys: set[Key] = set()
    if sessions or series or people:
        items = connection.execute(
            select(Series.organization_id, Series.manager_id, ActionItem.created_at)
            .join(Series, Series.id == ActionItem.series_id)
            .where(
                or_(
                    ActionItem.session_id.in_(sessions),
                    ActionItem.series_id.in_(series),
                    Series.rep_id.in_(people),
                    Series.manager_id.in_(people),
                )
            )
        )
        item_keys = {(org, manager, monday_of(created)) for org, manager, created in items}
    return session_keys, item_keys


def managers_of(connection: Connection, series_weeks: Iterable[tuple[str, date]]) -> set[Key]:
    """The (organisation, manager, week) keys of (series, week) keys."""
    weeks: dict[str, set[date]] = defaultdict(set)
    for series_id, week in series_weeks:
        weeks[series_id].add(week)
    if not weeks:
        return set()
    rows = connection.execute(
        select(Series.id, Series.organization_id, Series.manager_id).where(
            Series.id.in_(sorted(weeks))
        )
    )
    return {
        (org_id, manager_id, week)
        for series_id, org_id, manager_id in rows
        for week in weeks[series_id]
    }


__all__ = [
    "Key",
    "cascaded_keys",
    "managers_of",
    "monday_of",
    "rebuild_rollups",
    "refresh_item_weeks",
    "refresh_manager_weeks",
    "session_counts_columns",
    "touched_item_weeks",
    "touched_manager_weeks",
]
