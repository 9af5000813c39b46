"""What a report covers: one organisation, a range of weeks, optionally one manager's team.

Every report query starts from a ``ReportScope``, so none can forget the organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.sql.functions import FunctionElement

from scheduler.models import Session
from scheduler.outcomes import OUTCOMES_NOT_HELD, SessionOutcome
from scheduler.recurrence import week_start

# Weeks that count neither for nor against consistency (scheduler.outcomes.consistency_score).
NOT_EXPECTED = (SessionOutcome.EXCUSED.value, SessionOutcome.UPCOMING.value)
NOT_HELD = tuple(sorted(outcome.value for outcome in OUTCOMES_NOT_HELD))
DEFAULT_WEEKS = 13  # one agenda period: the quarter a manager is coached on


@dataclass(frozen=True)
class ReportScope:
    """Sessions of ``org_id`` whose week starts in ``first_week``..``last_week`` (inclusive).

    Both ends are moved to their Monday. ``manager_id`` narrows the scope to the 1:1s that
    manager runs (the manager's own view); ``None`` is the whole organisation (admins).
    """

    org_id: str
    first_week: date
    last_week: date
    manager_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "first_week", week_start(self.first_week))
        object.__setattr__(self, "last_week", week_start(self.last_week))
        if self.first_week > self.last_week:
            raise ValueError("first_week is after last_week")

    @classmethod
    def last_weeks(
        cls, org_id: str, *, today: date, weeks: int = DEFAULT_WEEKS, manager_id: str | None = None
    ) -> ReportScope:
        """The ``weeks`` weeks up to and including the week of ``today``."""
        last = week_start(today)
        return cls(org_id, last - timedelta(weeks=weeks - 1), last, manager_id)

    @property
    def weeks(self) -> list[date]:
        """Every Monday in the range, oldest first."""
        count = (self.last_week - self.first_week).days // 7 + 1
        return [self.first_week + timedelta(weeks=n) for n in range(count)]

    @property
    def starts_from(self) -> datetime:
        """A UTC instant no later than any session of the first week.

        Weeks are local to the organiser's zone (up to 14 hours from UTC), so a day of margin
        lets an index on ``scheduled_start`` bound the scan; ``week_start`` still decides.
        """
        return datetime.combine(self.first_week - timedelta(days=1), time(), UTC)

    @property
    def starts_before(self) -> datetime:
        """A UTC instant later than any session of the last week (see ``starts_from``)."""
        return datetime.combine(self.last_week + timedelta(days=8), time(), UTC)

    def sessions(self) -> ColumnElement[bool]:
        """The WHERE clause for this scope's sessions."""
        return self.rows_of(Session)

    def rows_of(self, table: Any) -> ColumnElement[bool]:
        """The WHERE clause for this scope's rows of a table keyed like sessions are
        (``organization_id``, ``week_start``, ``manager_id``: sessions and the rollups)."""
        clause = and_(
            table.organization_id == self.org_id,
            table.week_start >= self.first_week,
            table.week_start <= self.last_week,
        )
        if self.manager_id is not None:
            clause = and_(clause, table.manager_id == self.manager_id)
        return clause


def plan_for_these_values(db: DbSession) -> None:
    """On PostgreSQL, plan the report's queries for their own organisation and range.

    psycopg prepares a statement it has run five times on a connection, and PostgreSQL may
    then reuse a generic plan made without the values: for the overview's aggregates that
    plan was ~45 ms slower than a custom one (bench/reports.py). ``SET LOCAL`` ends with the
    transaction, so nothing else on the pooled connection is affected.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def percent(score: float | None) -> str:
    """A score as people read it: ``"83%"``, or an em dash for no data."""
    # Half up, as people round (Python's round() would make 12.5% read "12%").
    return "—" if score is None else f"{int(score * 100 + 0.5)}%"


class utc_date(FunctionElement[date]):  # lower case: it reads as the SQL function it emits
    """The UTC calendar date of a timestamp column, on SQLite and PostgreSQL alike."""

    type = Date()
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    # timestamptz::date would use the connection's TimeZone; the business day here is UTC's.
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"


@compiles(utc_date)
def _utc_date_default(element: utc_date, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTCDateTime as naive UTC text; date() gives 'YYYY-MM-DD' like a Date column.
    return f"date({compiler.process(element.clauses, **kw)})"


class utc_monday(FunctionElement[date]):  # lower case: it reads as the SQL function it emits
    """The Monday (UTC) of the week a timestamp column falls in, on SQLite and PostgreSQL."""

    type = Date()
    inherit_cache = True


@compiles(utc_monday, "postgresql")
def _utc_monday_postgresql(element: utc_monday, compiler: Any, **kw: Any) -> str:
    return (
        f"date_trunc('week', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"
    )


@compiles(utc_monday)
def _utc_monday_default(element: utc_monday, compiler: Any, **kw: Any) -> str:
    # 'weekday 0' moves forward to Sunday (or stays on one); six days back is its Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"
