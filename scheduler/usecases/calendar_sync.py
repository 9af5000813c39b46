"""Changes made in the calendar flow back into sessions (PRODUCT.md, non-negotiables)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.base import CalendarChange, CalendarProvider, ChangeKind
from scheduler.db import Database
from scheduler.models import LIVE_SERIES, CalendarConnection, Person, Series, SeriesStatus, Session
from scheduler.outcomes import CancelledBy
from scheduler.recurrence import local_instant
from scheduler.usecases.connections import reporting_lost_grants
from scheduler.usecases.scope import audit, get_in_org
from scheduler.usecases.sessions import reclassify, session_at


def sync_connection(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    connection_id: str,
    now: datetime,
    full: bool = False,
) -> int:
    """Read the connection's changes since its cursor and apply them; returns how many.

    The cursor is saved in the same transaction as the changes it covers, so a crash
    re-reads them, and applying a change twice leaves the same state. ``full`` re-reads the
    whole calendar (the daily reconciliation, or notifications the provider says it lost).
    """
    with database.session() as db:
        read = get_in_org(db, CalendarConnection, org_id, connection_id)
        cursor, owner_id = read.sync_cursor, read.person_id
    with reporting_lost_grants(database, org_id=org_id, connection_id=connection_id, now=now):
        changeset = provider.changes(cursor, full=full)
    with database.session() as db:
        applied = apply_changes(db, org_id, changeset.changes, now=now, calendar_owner_id=owner_id)
        connection = get_in_org(db, CalendarConnection, org_id, connection_id)
        connection.sync_cursor = changeset.cursor
        connection.last_synced_at = now
    return applied


def apply_changes(
    db: DbSession,
    org_id: str,
    changes: Iterable[CalendarChange],
    *,
    now: datetime,
    calendar_owner_id: str | None = None,
) -> int:
    """Update the organisation's sessions from calendar changes; unknown series are ignored.

    ``calendar_owner_id`` is the person whose calendar the changes were read from. An answer
    recorded on one occurrence wins over the answer to the series, whichever comes first
    (providers promise no order, and a later sync may bring the series' answer alone).
    """
    touched: dict[str, Session] = {}
    # A full sync reports every occurrence: each series is looked up once, not once a change.
    known: dict[str, Series | None] = {}
    applied = 0
    for change in changes:
        if change.series_id not in known:
            known[change.series_id] = db.scalar(
                select(Series).where(
                    Series.organization_id == org_id, Series.id == change.series_id
                )
            )
        series = known[change.series_id]
        if series is None:
            continue
        rows = _apply(db, series, change, now=now, calendar_owner_id=calendar_owner_id)
        touched.update((row.id, row) for row in rows)
        applied += 1
    db.flush()
    reclassify(db, touched.values(), now=now)
    return applied


def _apply(
    db: DbSession,
    series: Series,
    change: CalendarChange,
    *,
    now: datetime,
    calendar_owner_id: str | None,
) -> list[Session]:
    kind = change.kind
    if kind in (ChangeKind.SERIES_DELETED, ChangeKind.SERIES_SHORTENED):
        return _stop(db, series, change, now=now)
    if change.original_start is None:
        rows = _future_sessions(db, series, now)
    else:
        row = session_at(db, series, change.original_start)
        rows = [row] if row is not None else []
    cancelled = kind == ChangeKind.OCCURRENCE_CANCELLED
    author = _author(db, series, change.changed_by) if cancelled else None
    # Attendees cannot cancel a week in the organiser's own calendar (they decline): only the
    # manager, or someone acting for them, can.
    organisers_calendar = calendar_owner_id is not None and calendar_owner_id == series.manager_id
    for row in rows:
        if cancelled:
            row.cancelled_by = str(_cancelled_by(row, author, organisers_calendar))
            row.cancelled = True
        elif kind == ChangeKind.OCCURRENCE_MOVED and change.new_start and change.new_end:
            moved_back = change.new_start == row.scheduled_start
            row.current_start = None if moved_back else change.new_start
            row.current_end = None if moved_back else change.new_end
            row.cancelled = False
            row.cancel_reason = ""  # the week is on again: its old reason no longer holds
        elif kind == ChangeKind.ATTENDEE_RESPONDED and change.response is not None:
            if change.original_start is not None:
                row.rep_response = str(change.response)
                row.response_on_occurrence = True
            elif not row.response_on_occurrence:
                row.rep_response = str(change.response)
        elif kind == ChangeKind.AGENDA_EDITED:
            # Left alone: the next refresh will not overwrite a hand edit silently.
            row.agenda_edited = True
    return rows


def _stop(db: DbSession, series: Series, change: CalendarChange, *, now: datetime) -> list[Session]:
    """The series was deleted or cut short in the calendar: no future 1:1 booked."""
    if change.kind == ChangeKind.SERIES_SHORTENED and change.until is not None:
        cutoff = local_instant(change.until + timedelta(days=1), time(0), ZoneInfo(series.zone))
    else:
        cutoff = now  # the weeks already past happened or not; only the future is lost
    stopped = list(
        db.scalars(
            select(Session).where(Session.series_id == series.id, Session.scheduled_start >= cutoff)
        )
    )
    for row in stopped:
        row.series_stopped = True
    if series.status in LIVE_SERIES:
        series.status = SeriesStatus.STOPPED
        series.ended_reason = str(change.kind)
        if change.until is not None:
            series.until = change.until
        audit(
            db,
            org_id=series.organization_id,
            actor_id=None,
            action="series.stopped",
            subject=series,
            now=now,
            change=str(change.kind),
        )
    return stopped


def _future_sessions(db: DbSession, series: Series, now: datetime) -> list[Session]:
    return list(
        db.scalars(
            select(Session).where(Session.series_id == series.id, Session.scheduled_end > now)
        )
    )


def _author(db: DbSession, series: Series, email: str | None) -> CancelledBy | None:
    """The manager or the rep, when the calendar names one of them as the change's author."""
    if email:
        for person_id, role in (
            (series.manager_id, CancelledBy.MANAGER),
            (series.rep_id, CancelledBy.REP),
        ):
            person = db.get(Person, person_id)
            if person is not None and person.email == email.lower():
                return role
    return None


def _cancelled_by(
    row: Session, author: CancelledBy | None, organisers_calendar: bool
) -> CancelledBy:
    """Who cancelled the week: the author the calendar names; else who was known before (the
    same cancellation read again without its author); else the manager when it was read from
    the organiser's own calendar; else unknown."""
    if author is not None:
        return author
    if row.cancelled and row.cancelled_by in (CancelledBy.MANAGER, CancelledBy.REP):
        return CancelledBy(row.cancelled_by)
    return CancelledBy.MANAGER if organisers_calendar else CancelledBy.UNKNOWN
