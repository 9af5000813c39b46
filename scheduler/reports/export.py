"""CSV downloads of each report, as generators of lines: streamed, in constant memory.

Long lists are read through a server-side cursor (``yield_per``) on a connection the
generator holds until the last line, so a two-year export never sits in memory at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from scheduler.db import Database
from scheduler.reports.cadences import stopped_cadences_query, stopped_row
from scheduler.reports.defended import conflicts_dict
from scheduler.reports.overview import manager_rows
from scheduler.reports.rep import rep_report
from scheduler.reports.scope import ReportScope
from scheduler.reports.skipped import ALL_SKIPPED, SkippedFilter, skipped_query

BATCH = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header line, then one CSV line (with its CRLF) per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in row])
        yield buffer.getvalue()


SKIPPED_HEADER = (
    "session_id", "series_id", "week_start", "scheduled_start", "outcome", "cancelled_by",
    "manager_id", "manager_name", "rep_id", "rep_name", "cancel_reason",
)  # fmt: skip


def skipped_csv(
    database: Database, scope: ReportScope, narrowing: SkippedFilter = ALL_SKIPPED
) -> Iterator[str]:
    """Every skipped session of the scope, newest first, streamed."""
    with database.engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(
            skipped_query(scope, narrowing)
        )
        # The query's columns are the header's, in order: rows go out as they come.
        yield from csv_lines(SKIPPED_HEADER, result)


OVERVIEW_HEADER = (
    "manager_id", "name", "email", "score", "expected", "held", "undocumented", "moved",
    "rescheduled", "cancelled_by_manager", "cancelled_by_rep", "cancelled_by_unknown",
    "declined", "excused", "stopped", "upcoming", "items_created", "items_completed",
    "items_completed_on_time", "items_overdue", "conflicts_detected",
    "conflicts_moved_by_manager", "conflicts_moved_automatically", "conflicts_defended",
    "conflicts_lost", "conflicts_resolved", "debrief_emails", "debrief_nudged",
    "debrief_reminded", "debriefed_after_nudge",
)  # fmt: skip


def overview_csv(database: Database, scope: ReportScope, *, today: date) -> Iterator[str]:
    """One line per manager, ranked as on the page (one row per manager: a few thousand),
    with their conflicts (detected, moved by them, moved automatically, defended, lost,
    resolved) and debrief chase (emails, 1:1s nudged, reminded, debriefed after a nudge)."""
    with database.sessions() as db:
        rows = manager_rows(db, scope, today=today)
    yield from csv_lines(
        OVERVIEW_HEADER,
        (
            (
                row.manager_id, row.name, row.email, row.score,
                *(getattr(row.sessions, name) for name in OVERVIEW_HEADER[4:16]),
                row.items.created, row.items.completed, row.items.completed_on_time,
                row.items.overdue, *conflicts_dict(row.conflicts).values(),
                *asdict(row.chase).values(),
            )
            for row in rows
        ),
    )  # fmt: skip


STOPPED_HEADER = (
    "manager_id", "manager_name", "rep_id", "rep_name", "reason", "last_held_at",
    "days_since_last_held",
)  # fmt: skip


def stopped_csv(
    database: Database,
    org_id: str,
    *,
    now: datetime,
    stopped_after_weeks: int,
    manager_id: str | None = None,
) -> Iterator[str]:
    """Every stopped cadence, least recently held first, streamed."""
    query = stopped_cadences_query(
        org_id, now=now, stopped_after_weeks=stopped_after_weeks, manager_id=manager_id
    )
    with database.engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(query)
        yield from csv_lines(
            STOPPED_HEADER, (tuple(stopped_row(row, now=now).as_dict().values()) for row in result)
        )


REP_HEADER = ("week_start", "outcome", "session_id")


def rep_csv(database: Database, scope: ReportScope, rep_id: str, *, today: date) -> Iterator[str]:
    """A rep's week-by-week strip (one line per week of the scope)."""
    with database.sessions() as db:
        report = rep_report(db, scope, rep_id, today=today)
    weeks = (tuple(week.as_dict().values()) for week in report.strip)
    yield from csv_lines(REP_HEADER, weeks)


__all__ = ["csv_lines", "overview_csv", "rep_csv", "skipped_csv", "stopped_csv"]
