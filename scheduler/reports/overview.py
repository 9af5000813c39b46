"""The organisation overview: per manager, what came of the 1:1s and of their action items.

One statement over the managers' weekly counts (scheduler.reports.rollups): session
counts added up per manager and per week (the trend), item counts per manager, joined to
the managers; the median and the organisation's totals come from those per-manager figures.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    Date,
    Float,
    Integer,
    Select,
    String,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session as DbSession

from scheduler.defend import ConflictCounts
from scheduler.models import ManagerItemWeek, ManagerWeek, Person
from scheduler.reports.defended import (
    conflict_counts,
    conflict_counts_by_manager,
    conflicts_dict,
)
from scheduler.reports.nudges import (
    NudgeCounts,
    debrief_nudge_counts,
    debrief_nudge_counts_by_manager,
)
from scheduler.reports.scope import ReportScope, plan_for_these_values


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
    # Conflicts in the manager's weeks and what came of them; the chase of their debriefs.
    conflicts: ConflictCounts = field(default_factory=ConflictCounts)
    chase: NudgeCounts = field(default_factory=NudgeCounts)

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
            "conflicts": conflicts_dict(self.conflicts),
            "debrief_chase": asdict(self.chase),
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
    conflicts: ConflictCounts = field(default_factory=ConflictCounts)
    chase: NudgeCounts = field(default_factory=NudgeCounts)

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
            "conflicts": conflicts_dict(self.conflicts),
            "debrief_chase": asdict(self.chase),
            "managers": [row.as_dict() for row in self.managers],
        }


_SESSION_FIELDS = [field.name for field in fields(SessionCounts)]
_ITEM_FIELDS = [field.name for field in fields(ItemCounts)]


def _total(column: Any, name: str) -> Any:
    # SUM of integers is BIGINT or NUMERIC on PostgreSQL: cast back so JSON gets integers.
    return cast(func.sum(column), Integer).label(name)


def _session_counts(scope: ReportScope, dialect: str) -> CTE:
    """Session counts per manager (``week_start`` null) and per week (``manager_id`` null).

    Added up from the managers' weekly counts (scheduler.reports.rollups): 26,000 rows for
    2,000 managers over 13 weeks, where the sessions are 200,000. One pass on PostgreSQL
    (GROUPING SETS); elsewhere (SQLite) two grouped reads, which give the same numbers.
    """
    columns = [_total(ManagerWeek.__table__.c[name], name) for name in _SESSION_FIELDS]
    rows = scope.rows_of(ManagerWeek)
    if dialect == "postgresql":
        both = (
            select(ManagerWeek.manager_id, ManagerWeek.week_start, *columns)
            .where(rows)
            .group_by(
                func.grouping_sets(tuple_(ManagerWeek.manager_id), tuple_(ManagerWeek.week_start))
            )
        )
        return both.cte("session_counts")
    per_manager = (
        select(ManagerWeek.manager_id, cast(null(), Date).label("week_start"), *columns)
        .where(rows)
        .group_by(ManagerWeek.manager_id)
    )
    per_week = (
        select(cast(null(), String).label("manager_id"), ManagerWeek.week_start, *columns)
        .where(rows)
        .group_by(ManagerWeek.week_start)
    )
    return union_all(per_manager, per_week).cte("session_counts")


def _item_counts_by_manager(scope: ReportScope, today: date) -> Select[Any]:
    """Items created during the scope's weeks (UTC), by the manager of their series.

    Added up from the managers' weekly item counts per due date: what is overdue today is
    what is open among the rows due before today.
    """
    items = ManagerItemWeek
    return (
        select(
            items.manager_id,
            _total(items.created, "created"),
            _total(items.completed, "completed"),
            _total(items.completed_on_time, "completed_on_time"),
            cast(
                func.coalesce(func.sum(items.open).filter(items.due_date < today), 0), Integer
            ).label("overdue"),
        )
        .where(scope.rows_of(items))
        .group_by(items.manager_id)
    )


def _overview_query(scope: ReportScope, today: date, dialect: str) -> Select[Any]:
    """Managers ranked (``week_start`` null), and one row per week that had sessions.

    Managers: anyone flagged manager, or anyone who ran a session in range. A week's row
    carries that week's session counts (no person, no items): the trend comes from the same
    statement, so the range's sessions are read once.
    """
    counts = _session_counts(scope, dialect)
    sessions = select(counts).where(counts.c.manager_id.is_not(None)).subquery("s")
    items = _item_counts_by_manager(scope, today).subquery("i")
    in_report = or_(Person.is_manager.is_(True), sessions.c.manager_id.is_not(None))
    managers = (
        select(
            Person.id,
            Person.name,
            Person.email,
            *(func.coalesce(sessions.c[name], 0).label(name) for name in _SESSION_FIELDS),
            *(func.coalesce(items.c[name], 0).label(f"items_{name}") for name in _ITEM_FIELDS),
            cast(null(), Date).label("week_start"),
            _score(func.coalesce(sessions.c.held, 0), sessions.c.expected),
        )
        .outerjoin(sessions, sessions.c.manager_id == Person.id)
        .outerjoin(items, items.c.manager_id == Person.id)
        .where(Person.organization_id == scope.org_id, in_report)
    )
    if scope.manager_id is not None:
        managers = managers.where(Person.id == scope.manager_id)
    else:
        managers = managers.where(or_(Person.active.is_(True), sessions.c.manager_id.is_not(None)))
    weeks = select(
        cast(null(), String).label("id"),
        cast(null(), String).label("name"),
        cast(null(), String).label("email"),
        *(counts.c[name] for name in _SESSION_FIELDS),
        *(literal(0, Integer).label(f"items_{name}") for name in _ITEM_FIELDS),
        counts.c.week_start,
        _score(counts.c.held, counts.c.expected),
    ).where(counts.c.manager_id.is_(None))
    both = union_all(managers, weeks).subquery("overview")
    return select(both).order_by(both.c.score.desc().nulls_last(), both.c.name, both.c.id)


def _score(held: Any, expected: Any) -> Any:
    return (cast(held, Float) / func.nullif(expected, 0)).label("score")


def _overview_rows(
    db: DbSession, scope: ReportScope, today: date
) -> tuple[list[ManagerRow], list[WeekPoint]]:
    """The managers in rank order, and the trend with every week of the scope."""
    plan_for_these_values(db)
    managers, found = [], {}
    for row in db.execute(_overview_query(scope, today, db.get_bind().dialect.name)):
        values = tuple(row)
        week = values[_WEEK_COLUMN]
        if week is None:
            managers.append(_manager_row(values))
        else:
            found[week] = WeekPoint(week, values[_EXPECTED_COLUMN], values[_HELD_COLUMN])
    return _with_defence_and_chase(db, scope, managers), [
        found.get(week, WeekPoint(week, 0, 0)) for week in scope.weeks
    ]


def _with_defence_and_chase(
    db: DbSession, scope: ReportScope, managers: list[ManagerRow]
) -> list[ManagerRow]:
    """The rows with each manager's conflicts and debrief chase (scheduler.reports.defended):
    a few rows per manager at most, read apart from the rollups."""
    conflicts = conflict_counts_by_manager(db, scope)
    chase = debrief_nudge_counts_by_manager(db, scope)
    return [
        replace(
            row,
            conflicts=conflicts.get(row.manager_id, ConflictCounts()),
            chase=chase.get(row.manager_id, NudgeCounts()),
        )
        if row.manager_id in conflicts or row.manager_id in chase
        else row
        for row in managers
    ]


def weekly_trend(db: DbSession, scope: ReportScope) -> list[WeekPoint]:
    """Held and expected per week of the scope, every week present (zeros where none)."""
    rows = db.execute(
        select(
            ManagerWeek.week_start,
            _total(ManagerWeek.expected, "expected"),
            _total(ManagerWeek.held, "held"),
        )
        .where(scope.rows_of(ManagerWeek))
        .group_by(ManagerWeek.week_start)
    ).all()
    found = {row[0]: WeekPoint(row[0], row[1], row[2]) for row in rows}
    return [found.get(week, WeekPoint(week, 0, 0)) for week in scope.weeks]


def manager_trends(db: DbSession, scope: ReportScope) -> dict[str, list[WeekPoint]]:
    """Per manager, held and expected per week of the scope (every week present)."""
    rows = db.execute(
        select(
            ManagerWeek.manager_id, ManagerWeek.week_start, ManagerWeek.expected, ManagerWeek.held
        ).where(scope.rows_of(ManagerWeek))
    ).all()
    found = {(row[0], row[1]): WeekPoint(row[1], row[2], row[3]) for row in rows}
    managers = sorted({row[0] for row in rows})
    return {
        manager: [found.get((manager, week), WeekPoint(week, 0, 0)) for week in scope.weeks]
        for manager in managers
    }


def manager_rows(db: DbSession, scope: ReportScope, *, today: date) -> list[ManagerRow]:
    """The overview's table alone, ranked (what the CSV export streams)."""
    return _overview_rows(db, scope, today)[0]


# A row of _overview_query: id, name, email, session counts, item counts, week_start, score.
_FIRST_ITEM = 3 + len(_SESSION_FIELDS)
_WEEK_COLUMN = _FIRST_ITEM + len(_ITEM_FIELDS)
_EXPECTED_COLUMN = 3 + _SESSION_FIELDS.index("expected")
_HELD_COLUMN = 3 + _SESSION_FIELDS.index("held")


def _manager_row(values: tuple[Any, ...]) -> ManagerRow:
    # By position: building a mapping per row cost more than the rest of the Python here.
    return ManagerRow(
        manager_id=values[0],
        name=values[1],
        email=values[2],
        sessions=SessionCounts(*values[3:_FIRST_ITEM]),
        items=ItemCounts(*values[_FIRST_ITEM:_WEEK_COLUMN]),
    )


def organisation_overview(db: DbSession, scope: ReportScope, *, today: date) -> Overview:
    """The overview of ``scope`` as of ``today`` (which decides what is overdue), with the
    conflicts of its weeks and the chase of their debriefs (scheduler.reports.defended)."""
    managers, trend = _overview_rows(db, scope, today)
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
        trend=trend,
        conflicts=conflict_counts(db, scope),
        chase=debrief_nudge_counts(db, scope),
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
    "weekly_trend",
]
