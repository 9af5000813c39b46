"""One week of a series: its conflicts, moving it within its week, cancelling it, and
refreshing its agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from integrations.base import CalendarProvider
from scheduler.conflicts import OccurrenceConflict, find_conflicts
from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.intervals import Interval, utc
from scheduler.models import Organization, Person, Series, Session
from scheduler.outcomes import CancelledBy
from scheduler.recurrence import local_instant, week_start
from scheduler.usecases.agendas import AgendaLink, session_document
from scheduler.usecases.booking import series_ref, series_spec
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.proposals import working_hours
from scheduler.usecases.scope import audit, get_in_org
from scheduler.usecases.sessions import reclassify, series_slot
from scheduler.usecases.stored_availability import AvailabilityReader


def move_session(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    session_id: str,
    new_start: datetime,
    actor_id: str | None,
    link: AgendaLink,
    now: datetime,
    action: str = "session.moved",
) -> None:
    """Move one occurrence to ``new_start`` (same length) in the calendar and in Cadence,
    audited as ``action`` (by ``actor_id``; None: by Cadence itself)."""
    new_start = utc(new_start)
    if new_start <= now:
        raise InvalidInput([FieldError("new_start", "Choose a time in the future.")])
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        series = get_in_org(db, Series, org_id, row.series_id)
        if row.cancelled:
            raise InvalidInput([FieldError("session", "This week is cancelled.")])
        spec, ref, original = (
            series_spec(db, series, link, today=now.date()),
            series_ref(series),
            row.scheduled_start,
        )
    provider.move_occurrence(ref, spec, original, new_start)
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        row.current_start = new_start
        row.current_end = new_start + (row.scheduled_end - row.scheduled_start)
        reclassify(db, [row], now=now)
        audit(
            db,
            org_id=org_id,
            actor_id=actor_id,
            action=action,
            subject=row,
            now=now,
            to=new_start.isoformat(),
        )


def cancel_session(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    session_id: str,
    actor_id: str,
    link: AgendaLink,
    now: datetime,
    reason: str = "",
) -> None:
    """Cancel one occurrence, keeping the ``reason`` given; the rep is told by the calendar.
    Cancelling twice is harmless."""
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        if row.cancelled:
            return
        series = get_in_org(db, Series, org_id, row.series_id)
        spec, ref, original = (
            series_spec(db, series, link, today=now.date()),
            series_ref(series),
            row.scheduled_start,
        )
        by = CancelledBy.MANAGER if actor_id == row.manager_id else CancelledBy.UNKNOWN
    provider.cancel_occurrence(ref, spec, original)
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        row.cancelled = True
        row.cancelled_by = str(by)
        row.cancel_reason = reason.strip()
        reclassify(db, [row], now=now)
        audit(
            db,
            org_id=org_id,
            actor_id=actor_id,
            action="session.cancelled",
            subject=row,
            now=now,
            reason=row.cancel_reason,
        )


def refresh_agenda(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    session_id: str,
    link: AgendaLink,
    now: datetime,
) -> bool:
    """Put the session's current agenda (open items carried over, talking points) on its
    occurrence before it starts; returns whether it did.

    An agenda edited by hand in the calendar is left alone (the session says so), and so is
    a week that is cancelled or already started.
    """
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        if row.agenda_edited or row.cancelled or row.scheduled_start <= now:
            return False
        series = get_in_org(db, Series, org_id, row.series_id)
        # One rendering (with its PDF) serves the spec and the occurrence alike.
        document = session_document(db, row, link, today=now.date())
        spec = series_spec(db, series, link, today=now.date(), agenda=document)
        ref = series_ref(series)
        original = row.scheduled_start
    provider.update_occurrence_agenda(ref, spec, original, document)
    with database.session() as db:
        get_in_org(db, Session, org_id, session_id).agenda_refreshed_at = now
    return True


@dataclass(frozen=True)
class SessionConflict:
    """A coming week that collides with other busy time, and where it could move."""

    session_id: str
    conflict: OccurrenceConflict


def upcoming_conflicts(
    database: Database,
    read: AvailabilityReader,
    *,
    org_id: str,
    series_id: str,
    today: date,
    weeks: int = 4,
) -> list[SessionConflict]:
    """The next ``weeks`` of a series that collide with either person's other busy time.

    Both people's availability is asked of ``read`` once (the stored busy time, or one read
    of the manager's calendar plus the rep's own). Weeks already cancelled or moved are left
    out: the manager dealt with them.
    """
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        org = db.get(Organization, org_id)
        manager = get_in_org(db, Person, org_id, series.manager_id)
        rep = get_in_org(db, Person, org_id, series.rep_id)
        assert org is not None
        slot, first_day = series_slot(series), series.first_day
        hours = working_hours(manager, org), working_hours(rep, org)
        open_weeks = {
            row.scheduled_start: row.id
            for row in db.scalars(
                select(Session).where(
                    Session.series_id == series.id,
                    Session.cancelled.is_(False),
                    Session.current_start.is_(None),
                )
            )
        }
    window = Interval(
        local_instant(week_start(today), time(0), slot.tz),
        local_instant(week_start(today) + timedelta(weeks=weeks + 1), time(0), slot.tz),
    )
    seen = read([manager.email, rep.email], window)
    found = find_conflicts(
        slot,
        first_day,
        seen[manager.email],
        hours[0],
        seen[rep.email],
        hours[1],
        from_day=today,
        weeks=weeks,
    )
    return [
        SessionConflict(open_weeks[conflict.occurrence.start], conflict)
        for conflict in found
        if conflict.occurrence.start in open_weeks
    ]
