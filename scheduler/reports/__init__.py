"""Skipped-meeting reports: which managers hold their weekly 1:1s, and which let them slide.

Every query takes a ``ReportScope`` (organisation, weeks, optionally one manager's team)
and aggregates in SQL; values come back as frozen dataclasses with ``as_dict()`` for JSON.
"""

from scheduler.reports.cadences import StoppedCadence, StopReason, stopped_cadences
from scheduler.reports.overview import (
    ItemCounts,
    ManagerRow,
    Overview,
    SessionCounts,
    WeekPoint,
    manager_rows,
    manager_trends,
    organisation_overview,
    weekly_trend,
)
from scheduler.reports.rep import OpenItem, RepReport, StripWeek, rep_report
from scheduler.reports.scope import ReportScope, percent
from scheduler.reports.skipped import (
    BadCursor,
    SkippedFilter,
    SkippedPage,
    SkippedRow,
    skipped_sessions,
)

__all__ = [
    "BadCursor",
    "ItemCounts",
    "ManagerRow",
    "OpenItem",
    "Overview",
    "RepReport",
    "ReportScope",
    "SessionCounts",
    "SkippedFilter",
    "SkippedPage",
    "SkippedRow",
    "StopReason",
    "StoppedCadence",
    "StripWeek",
    "WeekPoint",
    "manager_rows",
    "manager_trends",
    "organisation_overview",
    "percent",
    "rep_report",
    "skipped_sessions",
    "stopped_cadences",
    "weekly_trend",
]
