"""What the debrief chase achieved: nudges sent, and debriefs that followed within grace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, distinct, func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.chase import NudgeKind
from scheduler.models import Debrief, DebriefNudge, Session
from scheduler.reports.scope import ReportScope


@dataclass(frozen=True)
class NudgeCounts:
    """The chase over a report's weeks (the weeks of the 1:1s chased).

    ``emails``: nudges and reminders sent; ``nudged``: 1:1s whose manager got at least one;
    ``reminded``: those that needed the reminder; ``debriefed_after_nudge``: nudged 1:1s
    debriefed after an email and before the grace period ended (the grace period as it was
    when the email went).
    """

    emails: int = 0
    nudged: int = 0
    reminded: int = 0
    debriefed_after_nudge: int = 0


def _chase_counts(scope: ReportScope, *group: Any) -> Select[Any]:
    """The chase of the 1:1s of ``scope``, counted per ``group`` (none: in total)."""
    debriefed = and_(
        Debrief.recorded_at >= DebriefNudge.queued_at,
        Debrief.recorded_at < DebriefNudge.grace_ends_at,
    )
    return (
        select(
            *group,
            func.count(),
            func.count(distinct(DebriefNudge.session_id)),
            func.count().filter(DebriefNudge.kind == NudgeKind.REMINDER.value),
            func.count(distinct(DebriefNudge.session_id)).filter(debriefed),
        )
        .select_from(DebriefNudge)
        .join(Session, Session.id == DebriefNudge.session_id)
        .outerjoin(Debrief, Debrief.session_id == DebriefNudge.session_id)
        .where(
            DebriefNudge.organization_id == scope.org_id,
            # Sent after the 1:1 ended, so after the scope began: bounds the scan of the
            # organisation's nudges on their (organization_id, queued_at) index.
            DebriefNudge.queued_at >= scope.starts_from,
            scope.sessions(),
        )
        .group_by(*group)
    )


def debrief_nudge_counts(db: DbSession, scope: ReportScope) -> NudgeCounts:
    """Count the chase for the 1:1s of ``scope`` (its organisation, weeks and manager)."""
    row = db.execute(_chase_counts(scope)).one()
    return NudgeCounts(emails=row[0], nudged=row[1], reminded=row[2], debriefed_after_nudge=row[3])


def debrief_nudge_counts_by_manager(db: DbSession, scope: ReportScope) -> dict[str, NudgeCounts]:
    """``debrief_nudge_counts`` per manager of the 1:1s chased (only managers with a nudge)."""
    return {
        manager_id: NudgeCounts(*counts)
        for manager_id, *counts in db.execute(_chase_counts(scope, Session.manager_id))
    }
