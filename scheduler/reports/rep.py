"""One rep's page: a week-by-week strip of outcomes, and their open and overdue action items."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.models import ActionItem, Person, Series, Session
from scheduler.outcomes import SessionOutcome
from scheduler.reports.overview import SessionCounts
from scheduler.reports.rollups import session_counts_columns
from scheduler.reports.scope import ReportScope
from scheduler.usecases.scope import NotInOrganization, get_in_org


@dataclass(frozen=True)
class StripWeek:
    """One week of the strip: ``None`` outcome and session when nothing was scheduled."""

    week_start: date
    outcome: SessionOutcome | None
    session_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "outcome": self.outcome.value if self.outcome else None,
            "session_id": self.session_id,
        }


@dataclass(frozen=True)
class OpenItem:
    item_id: str
    session_id: str
    text: str
    owner: str
    due_date: date
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "session_id": self.session_id,
            "text": self.text,
            "owner": self.owner,
            "due_date": self.due_date.isoformat(),
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class RepReport:
    rep_id: str
    rep_name: str
    manager_id: str | None
    strip: list[StripWeek]
    counts: SessionCounts
    open_items: list[OpenItem]

    @property
    def overdue_items(self) -> list[OpenItem]:
        return [item for item in self.open_items if item.overdue]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rep_id": self.rep_id,
            "rep_name": self.rep_name,
            "manager_id": self.manager_id,
            "score": self.counts.score,
            "counts": {**asdict(self.counts), "cancelled": self.counts.cancelled},
            "strip": [week.as_dict() for week in self.strip],
            "open_items": [item.as_dict() for item in self.open_items],
        }


def rep_report(db: DbSession, scope: ReportScope, rep_id: str, *, today: date) -> RepReport:
    """The rep's weeks in ``scope`` and their open items as of ``today``.

    Raises ``NotInOrganization`` for a rep of another organisation, and, in a manager's
    view, for a rep who is not in that manager's team.
    """
    rep = get_in_org(db, Person, scope.org_id, rep_id)
    if scope.manager_id is not None and rep.manager_id != scope.manager_id:
        raise NotInOrganization(f"rep {rep_id} is not in this manager's team")
    mine = (Session.rep_id == rep.id, scope.sessions())
    counts = db.execute(select(*session_counts_columns()).where(*mine)).one()
    # A rep with two 1:1s in one week (a series retimed mid-week) shows the later one.
    weeks = {
        week: (SessionOutcome(outcome), session_id)
        for week, outcome, session_id in db.execute(
            select(Session.week_start, Session.outcome, Session.id)
            .where(*mine)
            .order_by(Session.scheduled_start)
        )
    }
    items = db.execute(
        select(
            ActionItem.id,
            ActionItem.session_id,
            ActionItem.text,
            ActionItem.owner,
            ActionItem.due_date,
        )
        .join(Series, Series.id == ActionItem.series_id)
        .where(
            ActionItem.organization_id == scope.org_id,
            Series.organization_id == scope.org_id,
            Series.rep_id == rep.id,
            ActionItem.done_at.is_(None),
            *([Series.manager_id == scope.manager_id] if scope.manager_id else []),
        )
        .order_by(ActionItem.due_date, ActionItem.id)
    ).all()
    return RepReport(
        rep_id=rep.id,
        rep_name=rep.name,
        manager_id=rep.manager_id,
        strip=[StripWeek(week, *weeks.get(week, (None, None))) for week in scope.weeks],
        counts=SessionCounts(**counts._mapping),
        open_items=[
            OpenItem(item_id, session_id, text, str(owner), due, due < today)
            for item_id, session_id, text, owner, due in items
        ],
    )


__all__ = ["OpenItem", "RepReport", "StripWeek", "rep_report"]
