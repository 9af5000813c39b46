"""Defending the slot and chasing the debrief, as the reports count them.

Conflicts are counted by the week of the 1:1 they threatened (``slot_conflicts.week_start``),
in the scope's organisation, weeks and manager, by ``scheduler.defend.count_conflicts``: a
week is lost only once its outcome is known (a week still upcoming never is). The chase is
counted by the week of the 1:1 chased (``scheduler.reports.nudges``). Both come in total (the
overview's and the digest's blocks) and per manager (the overview's rows, JSON and CSV).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, select
from sqlalchemy.orm import Session as DbSession

from scheduler.defend import ConflictCounts, ConflictState, count_conflicts
from scheduler.models import Session, SlotConflict
from scheduler.reports.nudges import NudgeCounts
from scheduler.reports.scope import ReportScope


def _conflict_outcomes(scope: ReportScope) -> Select[str, ConflictState, str]:
    """(manager, conflict state, the week's stored outcome), one row per recorded conflict."""
    return (
        select(SlotConflict.manager_id, SlotConflict.state, Session.outcome)
        .join(Session, Session.id == SlotConflict.session_id)
        .where(scope.rows_of(SlotConflict))
    )


def conflict_counts(db: DbSession, scope: ReportScope) -> ConflictCounts:
    """What became of the conflicts in the scope's weeks (its organisation and manager)."""
    rows = db.execute(_conflict_outcomes(scope))
    return count_conflicts((str(state), outcome) for _, state, outcome in rows)


def conflict_counts_by_manager(db: DbSession, scope: ReportScope) -> dict[str, ConflictCounts]:
    """``conflict_counts`` per manager (only managers with a conflict in the scope)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for manager_id, state, outcome in db.execute(_conflict_outcomes(scope)):
        found[manager_id].append((str(state), outcome))
    return {manager_id: count_conflicts(rows) for manager_id, rows in found.items()}


def conflicts_dict(counts: ConflictCounts) -> dict[str, int]:
    """JSON-ready: every count and ``defended`` (moved by the manager + automatically)."""
    return {
        "detected": counts.detected,
        "moved_by_manager": counts.moved_by_manager,
        "moved_automatically": counts.moved_automatically,
        "defended": counts.defended,
        "lost": counts.lost,
        "resolved": counts.resolved,
    }


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" if count == 1 else f"{count} {thing}s"


def defended_sentence(counts: ConflictCounts) -> str:
    """One line for the digest: what came of the week's conflicts."""
    return (
        f"{_many(counts.detected, 'conflict')} detected, {counts.defended} defended "
        f"({counts.moved_by_manager} moved by the manager, {counts.moved_automatically} moved "
        f"automatically), {counts.lost} lost to a conflict."
    )


def chase_sentence(counts: NudgeCounts) -> str:
    """One line for the digest: the debrief emails and what followed them."""
    return (
        f"{_many(counts.emails, 'debrief email')} sent about {_many(counts.nudged, '1:1')} "
        f"({counts.reminded} reminded); {counts.debriefed_after_nudge} debriefed within the "
        "grace period after a nudge."
    )


__all__ = [
    "chase_sentence",
    "conflict_counts",
    "conflict_counts_by_manager",
    "conflicts_dict",
    "defended_sentence",
]
