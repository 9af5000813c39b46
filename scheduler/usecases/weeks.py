"""One week of a series: move it within its week, or cancel it."""

from __future__ import annotations

from datetime import datetime

from integrations.base import CalendarProvider
from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.intervals import utc
from scheduler.models import Series, Session
from scheduler.outcomes import CancelledBy
from scheduler.usecases.agendas import AgendaLink, session_document
from scheduler.usecases.booking import series_ref, series_spec
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import audit, get_in_org
from scheduler.usecases.sessions import reclassify


def move_session(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    session_id: str,
    new_start: datetime,
    actor_id: str,
    link: AgendaLink,
    now: datetime,
) -> None:
    """Move one occurrence to ``new_start`` (same length) in the calendar and in Cadence."""
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
            action="session.moved",
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
) -> None:
    """Cancel one occurrence; the rep is told by the calendar. Cancelling twice is harmless."""
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
        reclassify(db, [row], now=now)
        audit(
            db, org_id=org_id, actor_id=actor_id, action="session.cancelled", subject=row, now=now
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
        spec, ref = series_spec(db, series, link, today=now.date()), series_ref(series)
        document = session_document(db, row, link, today=now.date())
        original = row.scheduled_start
    provider.update_occurrence_agenda(ref, spec, original, document)
    with database.session() as db:
        get_in_org(db, Session, org_id, session_id).agenda_refreshed_at = now
    return True
