"""Sessions: one row per scheduled week of a series, and the outcome each came to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.intervals import Interval
from scheduler.models import ActionItem, Organization, Series, Session
from scheduler.outcomes import CancelledBy, SessionFacts, SessionOutcome, classify_session
from scheduler.recurrence import WeeklySlot, week_start


def series_slot(series: Series) -> WeeklySlot:
    return WeeklySlot(
        weekday=series.weekday,
        local_time=time.fromisoformat(series.local_time),
        duration=timedelta(minutes=series.duration_minutes),
        zone=series.zone,
    )


def materialise_sessions(db: DbSession, series: Series, *, through: date) -> list[Session]:
    """Rows for every occurrence from the series' first day through ``through`` (idempotent).

    Returns the rows that were missing and are now added.
    """
    slot = series_slot(series)
    last = min(through, series.until) if series.until else through
    existing = set(
        db.scalars(select(Session.scheduled_start).where(Session.series_id == series.id))
    )
    added = []
    day = slot.first_on_or_after(series.first_day)
    while day <= last:
        occurrence = slot.occurrence_on(day)
        if occurrence.start not in existing:
            row = Session(
                organization_id=series.organization_id,
                series_id=series.id,
                manager_id=series.manager_id,
                rep_id=series.rep_id,
                week_start=week_start(day),
                scheduled_start=occurrence.start,
                scheduled_end=occurrence.end,
            )
            db.add(row)
            added.append(row)
        day += timedelta(weeks=1)
    db.flush()
    return added


def session_facts(
    row: Session, series: Series, org: Organization, action_items: int
) -> SessionFacts:
    current = (
        Interval(row.current_start, row.current_end)
        if row.current_start is not None and row.current_end is not None
        else None
    )
    return SessionFacts(
        scheduled=Interval(row.scheduled_start, row.scheduled_end),
        organiser_zone=series.zone,
        current=current,
        cancelled=row.cancelled,
        cancelled_by=CancelledBy(row.cancelled_by or CancelledBy.UNKNOWN),
        rep_declined=row.rep_response == "declined",
        excused=row.excused,
        series_stopped=row.series_stopped,
        action_items=action_items,
        minimum_action_items=org.min_action_items,
    )


def reclassify(db: DbSession, rows: Iterable[Session], *, now: datetime) -> None:
    """Store each session's outcome as of ``now`` (reports aggregate the stored outcome)."""
    rows = list(rows)
    if not rows:
        return
    counts = dict(
        db.execute(
            select(ActionItem.session_id, func.count())
            .where(ActionItem.session_id.in_([row.id for row in rows]))
            .group_by(ActionItem.session_id)
        ).all()
    )
    for row in rows:
        series = db.get(Series, row.series_id)
        org = db.get(Organization, row.organization_id)
        assert series is not None and org is not None
        facts = session_facts(row, series, org, counts.get(row.id, 0))
        outcome = classify_session(facts, now=now, grace=timedelta(hours=org.grace_hours))
        if outcome != row.outcome:
            row.outcome = outcome
            row.outcome_at = now


def session_at(db: DbSession, series: Series, original_start: datetime) -> Session | None:
    """The session of ``series`` scheduled to start at ``original_start``."""
    return db.scalar(
        select(Session).where(
            Session.series_id == series.id, Session.scheduled_start == original_start
        )
    )


__all__ = [
    "SessionOutcome",
    "materialise_sessions",
    "reclassify",
    "series_slot",
    "session_at",
    "session_facts",
]
