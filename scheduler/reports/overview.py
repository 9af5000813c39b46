"""The organisation overview: per manager, what came of the 1:1s and of their action items.

One grouped query over sessions, one over action items, joined to the managers; the
median and the organisation's totals are taken from those per-manager figures.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, cast, func, or_, select
from sqlalchemy.orm import Session as DbSession

from scheduler.models import ActionItem, Person, Series, Session
from scheduler.outcomes import CancelledBy, SessionOutcome
from scheduler.reports.scope import NOT_EXPECTED, ReportScope, plan_for_these_values, utc_date


@dataclass(frozen=True)
class SessionCounts:
    """How many sessions came to each outcome; ``expected`` excludes excused and upcoming."""

    expected: int = 0
    held: int = 0
    undocumented: int = 0
    moved: int = 0
    rescheduled: int = 0
    cancelled_by_manager: int = 0
    cancelled_by_rep: int = 0
    cancelled_by_unknown: int = 0
    declined: int = 0
    excused: int = 0
    stopped: int = 0
    upcoming: int = 0

    @property
    def cancelled(self) -> int:
        return self.cancelled_by_manager + self.cancelled_by_rep + self.cancelled_by_unknown

    @property
    def score(self) -> float | None:
        """Held / expected (``scheduler.outcomes.consistency_score``); ``None``: none expected."""
        return self.held / self.expected if self.expected else None


@dataclass(frozen=True)
class ItemCounts:
    """Action items created in the range, and what became of them as of ``today``.

    On time means done on or before the due date (UTC calendar day); overdue means still
    open after it.
    """

    created: int = 0
    completed: int = 0
    completed_on_time: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class ManagerRow:
    manager_id: str
    name: str
    email: str
    sessions: SessionCounts
    items: ItemCounts

    @property
    def score(self) -> float | None:
        return self.sessions.score

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: flat counts, the score as a fraction (``null`` for no data)."""
        return {
            "manager_id": self.manager_id,
            "name": self.name,
            "email": self.email,
            **asdict(self.sessions),
            "cancelled": self.sessions.cancelled,
            "score": self.score,
            "items": asdict(self.items),
        }


@dataclass(frozen=True)
class WeekPoint:
    week_start: date
    expected: int
    held: int

    @property
    def score(self) -> float | None:
        return self.held / self.expected if self.expected else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "expected": self.expected,
            "held": self.held,
            "score": self.score,
        }


@dataclass(frozen=True)
class Overview:
    """Managers ranked by score (best first, managers with no expected week last)."""

    scope: ReportScope
    today: date
    managers: list[ManagerRow]
    median_score: float | None
    totals: SessionCounts
    item_totals: ItemCounts
    trend: list[WeekPoint]

    @property
    def score(self) -> float | None:
        return self.totals.score

    def as_dict(self) -> dict[str, Any]:
        return {
            "organization_id": self.scope.org_id,
            "manager_id": self.scope.manager_id,
            "first_week": self.scope.first_week.isoformat(),
            "last_week": self.scope.last_week.isoformat(),
            "today": self.today.isoformat(),
            "score": self.score,
            "median_score": self.median_score,
            "totals": {**asdict(self.totals), "cancelled": self.totals.cancelled},
            "items": asdict(self.item_totals),
            "trend": [point.as_dict() for point in self.trend],
            "managers": [row.as_dict() for row in self.managers],
        }


def _count(condition: Any) -> Any:
    return func.count().filter(condition)


def session_counts_columns() -> list[Any]:
    """Aggregate columns, one per ``SessionCounts`` field, in field order."""
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


_SESSION_FIELDS = [field.name for field in fields(SessionCounts)]
_ITEM_FIELDS = [field.name for field in fields(ItemCounts)]


def _session_counts_by_manager(scope: ReportScope) -> Select[Any]:
    return (
        select(Session.manager_id, *session_counts_columns())
        .where(scope.sessions())
        .group_by(Session.manager_id)
    )


def _item_counts_by_manager(scope: ReportScope, today: date) -> Select[Any]:
    """Items created during the scope's weeks, by the manager of their series.

    Counted by creation instant rather than by their session's week, so the items table is
    read through one index range without joining the sessions. Counted per series first and
    only then summed per manager: the join meets 16,000 series totals, not 300,000 items.
    """
    begin = datetime.combine(scope.first_week, time(), UTC)
    end = datetime.combine(scope.last_week + timedelta(weeks=1), time(), UTC)
    done = ActionItem.done_at.is_not(None)
    counts = (
        select(
            ActionItem.series_id,
            func.count().label("created"),
            _count(done).label("completed"),
            _count(and_(done, utc_date(ActionItem.done_at) <= ActionItem.due_date)).label(
                "completed_on_time"
            ),
            _count(and_(ActionItem.done_at.is_(None), ActionItem.due_date < today)).label(
                "overdue"
            ),
        )
        .where(
            ActionItem.organization_id == scope.org_id,
            ActionItem.created_at >= begin,
            ActionItem.created_at < end,
        )
        .group_by(ActionItem.series_id)
    )
    if scope.manager_id is not None:
        # The manager's own view reads their series' items through ix on series_id.
        counts = counts.where(
            ActionItem.series_id.in_(
                select(Series.id).where(
                    Series.organization_id == scope.org_id, Series.manager_id == scope.manager_id
                )
            )
        )
    per_series = counts.subquery("per_series")
    query = (
        select(
            Series.manager_id,
            # SUM of counts is NUMERIC on PostgreSQL: cast back so JSON gets integers.
            *(cast(func.sum(per_series.c[name]), Integer).label(name) for name in _ITEM_FIELDS),
        )
        .join(per_series, per_series.c.series_id == Series.id)
        .where(Series.organization_id == scope.org_id)
        .group_by(Series.manager_id)
    )
    if scope.manager_id is not None:
        query = query.where(Series.manager_id == scope.manager_id)
    return query


def _overview_query(scope: ReportScope, today: date) -> Select[Any]:
    """One row per manager (anyone flagged manager, or anyone who ran a session in range)."""
    sessions = _session_counts_by_manager(scope).subquery("s")
    items = _item_counts_by_manager(scope, today).subquery("i")
    in_report = or_(Person.is_manager.is_(True), sessions.c.manager_id.is_not(None))
    held = func.coalesce(sessions.c.held, 0)
    expected = sessions.c.expected
    score = cast(held, Float) / func.nullif(expected, 0)
    query = (
        select(
            Person.id,
            Person.name,
            Person.email,
            *(func.coalesce(sessions.c[name], 0).label(name) for name in _SESSION_FIELDS),
            *(func.coalesce(items.c[name], 0).label(f"items_{name}") for name in _ITEM_FIELDS),
        )
        .outerjoin(sessions, sessions.c.manager_id == Person.id)
        .outerjoin(items, items.c.manager_id == Person.id)
        .where(Person.organization_id == scope.org_id, in_report)
        .order_by(score.desc().nulls_last(), Person.name, Person.id)
    )
    if scope.manager_id is not None:
        query = query.where(Person.id == scope.manager_id)
    else:
        query = query.where(or_(Person.active.is_(True), sessions.c.manager_id.is_not(None)))
    return query


def weekly_trend(db: DbSession, scope: ReportScope) -> list[WeekPoint]:
    """Held and expected per week of the scope, every week present (zeros where none)."""
    rows = db.execute(
        select(
            Session.week_start,
            _count(Session.outcome.not_in(NOT_EXPECTED)),
            _count(Session.outcome == SessionOutcome.HELD.value),
        )
        .where(scope.sessions())
        .group_by(Session.week_start)
    ).all()
    found = {row[0]: WeekPoint(row[0], row[1], row[2]) for row in rows}
    return [found.get(week, WeekPoint(week, 0, 0)) for week in scope.weeks]


def manager_trends(db: DbSession, scope: ReportScope) -> dict[str, list[WeekPoint]]:
    """Per manager, held and expected per week of the scope (every week present)."""
    rows = db.execute(
        select(
            Session.manager_id,
            Session.week_start,
            _count(Session.outcome.not_in(NOT_EXPECTED)),
            _count(Session.outcome == SessionOutcome.HELD.value),
        )
        .where(scope.sessions())
        .group_by(Session.manager_id, Session.week_start)
    ).all()
    found = {(row[0], row[1]): WeekPoint(row[1], row[2], row[3]) for row in rows}
    managers = sorted({row[0] for row in rows})
    return {
        manager: [found.get((manager, week), WeekPoint(week, 0, 0)) for week in scope.weeks]
        for manager in managers
    }


def manager_rows(db: DbSession, scope: ReportScope, *, today: date) -> list[ManagerRow]:
    """The overview's table alone, ranked (what the CSV export streams)."""
    plan_for_these_values(db)
    return [_manager_row(row) for row in db.execute(_overview_query(scope, today))]


# A row of _overview_query: id, name, email, the session counts, then the item counts.
_FIRST_ITEM = 3 + len(_SESSION_FIELDS)


def _manager_row(row: Any) -> ManagerRow:
    # By position: building a mapping per row cost more than the rest of the Python here.
    values = tuple(row)
    return ManagerRow(
        manager_id=values[0],
        name=values[1],
        email=values[2],
        sessions=SessionCounts(*values[3:_FIRST_ITEM]),
        items=ItemCounts(*values[_FIRST_ITEM:]),
    )


def organisation_overview(db: DbSession, scope: ReportScope, *, today: date) -> Overview:
    """The overview of ``scope`` as of ``today`` (which decides what is overdue)."""
    managers = manager_rows(db, scope, today=today)
    scores = [row.score for row in managers if row.score is not None]
    # Totals add up the per-manager counts SQL already aggregated (a few thousand rows at most).
    totals = SessionCounts(
        **{name: sum(getattr(row.sessions, name) for row in managers) for name in _SESSION_FIELDS}
    )
    item_totals = ItemCounts(
        **{name: sum(getattr(row.items, name) for row in managers) for name in _ITEM_FIELDS}
    )
    return Overview(
        scope=scope,
        today=today,
        managers=managers,
        median_score=statistics.median(scores) if scores else None,
        totals=totals,
        item_totals=item_totals,
        trend=weekly_trend(db, scope),
    )


__all__ = [
    "ItemCounts",
    "ManagerRow",
    "Overview",
    "SessionCounts",
    "WeekPoint",
    "manager_rows",
    "manager_trends",
    "organisation_overview",
    "session_counts_columns",
    "weekly_trend",
]
