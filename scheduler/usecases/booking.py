"""Booking a manager–rep pair's weekly series, and ending or moving it.

Booking is idempotent end to end: the series row is written (status ``booking``) before the
provider is called, the provider derives its idempotency key from the row's id, and a retry,
a crash between the call and the commit, or a double submit all converge on one series.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from integrations.base import AgendaDocument, CalendarProvider, SeriesRef, SeriesSpec
from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.models import LIVE_SERIES, Organization, Person, Series, SeriesStatus, Session
from scheduler.recurrence import WeeklySlot, local_instant
from scheduler.usecases.agendas import (
    AgendaLink,
    manager_template,
    series_title,
    session_document,
    template_to_rows,
)
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import audit, get_in_org
from scheduler.usecases.sessions import materialise_sessions, series_slot


class AlreadyBooked(Exception):
    """The pair has a live series already (a double submit lands here, harmlessly)."""

    def __init__(self, series_id: str):
        super().__init__(f"series {series_id} is already booked for this pair")
        self.series_id = series_id


def book_series(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    manager_id: str,
    rep_id: str,
    connection_id: str | None,
    slot: WeeklySlot,
    first_day: date,
    link: AgendaLink,
    now: datetime,
    previous_series_id: str | None = None,
) -> str:
    """Book the weekly series for the pair and return its id; safe to call again.

    A live series for the pair with another slot raises ``AlreadyBooked``; the same call
    repeated (a retry or a double submit) returns the same series without a second booking.
    """
    series_id = _reserve(
        database,
        org_id=org_id,
        manager_id=manager_id,
        rep_id=rep_id,
        connection_id=connection_id,
        slot=slot,
        first_day=first_day,
        previous_series_id=previous_series_id,
        now=now,
    )
    complete_booking(
        database,
        provider,
        org_id=org_id,
        series_id=series_id,
        link=link,
        now=now,
        actor_id=manager_id,
    )
    return series_id


def complete_booking(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    series_id: str,
    link: AgendaLink,
    now: datetime,
    actor_id: str | None,
    **detail: Any,
) -> bool:
    """Create a ``booking`` series at the provider and mark it active; returns whether it had
    to. A series no longer ``booking`` (another attempt finished it) is left as it is."""
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        if series.status != SeriesStatus.BOOKING:
            return False
        spec = series_spec(db, series, link, today=now.date())
    ref = provider.create_series(spec)
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        if series.status != SeriesStatus.BOOKING:
            return False
        series.provider_event_id = ref.provider_event_id
        series.status = SeriesStatus.ACTIVE
        audit(
            db,
            org_id=org_id,
            actor_id=actor_id,
            action="series.booked",
            subject=series,
            now=now,
            **detail,
        )
    return True


def _reserve(
    database: Database,
    *,
    org_id: str,
    manager_id: str,
    rep_id: str,
    connection_id: str | None,
    slot: WeeklySlot,
    first_day: date,
    previous_series_id: str | None,
    now: datetime,
) -> str:
    """The pair's live series for this slot: the one being booked, or a new ``booking`` row."""
    starts_on = slot.first_on_or_after(first_day)
    for _ in range(2):  # a concurrent double submit loses the race on the unique index once
        try:
            with database.session() as db:
                manager = get_in_org(db, Person, org_id, manager_id)
                rep = get_in_org(db, Person, org_id, rep_id)
                live = _live_series(db, org_id, manager.id, rep.id)
                if live is not None:
                    if series_slot(live) != slot or live.first_day != starts_on:
                        raise AlreadyBooked(live.id)
                    return live.id
                _refuse_the_past(slot, starts_on, now)
                org = db.get(Organization, org_id)
                assert org is not None
                series = Series(
                    organization_id=org_id,
                    manager_id=manager.id,
                    rep_id=rep.id,
                    connection_id=connection_id,
                    weekday=slot.weekday,
                    local_time=slot.local_time.strftime("%H:%M"),
                    duration_minutes=int(slot.duration.total_seconds() // 60),
                    zone=slot.zone,
                    first_day=starts_on,
                    status=SeriesStatus.BOOKING,
                    template_topics=template_to_rows(manager_template(db, org_id, manager.id)),
                    template_locked_on=starts_on,
                    previous_series_id=previous_series_id,
                    created_at=now,
                )
                db.add(series)
                db.flush()
                materialise_sessions(
                    db, series, through=now.date() + timedelta(weeks=org.horizon_weeks)
                )
                return series.id
        except IntegrityError:
            continue
    raise AssertionError("the pair's live series vanished while it was being booked")


def _refuse_the_past(slot: WeeklySlot, starts_on: date, now: datetime) -> None:
    """A series whose first 1:1 has already begun would record weeks that never were booked
    (history cannot be fabricated): refused, naming the first day."""
    if slot.occurrence_on(starts_on).start <= now:
        raise InvalidInput(
            [FieldError("first_day", "The first 1:1 would be in the past: choose a later day.")]
        )


def _live_series(db: DbSession, org_id: str, manager_id: str, rep_id: str) -> Series | None:
    return db.scalar(
        select(Series).where(
            Series.organization_id == org_id,
            Series.manager_id == manager_id,
            Series.rep_id == rep_id,
            Series.status.in_(LIVE_SERIES),
        )
    )


def first_session(db: DbSession, series: Series) -> Session:
    row = db.scalar(
        select(Session)
        .where(Session.series_id == series.id)
        .order_by(Session.scheduled_start)
        .limit(1)
    )
    assert row is not None, "a booked series has sessions"
    return row


def series_spec(
    db: DbSession,
    series: Series,
    link: AgendaLink,
    *,
    today: date,
    agenda: AgendaDocument | None = None,
) -> SeriesSpec:
    """What the provider needs to book ``series`` (or find it again), agenda included: the
    first session's unless the caller already rendered the one it needs."""
    manager = db.get(Person, series.manager_id)
    rep = db.get(Person, series.rep_id)
    org = db.get(Organization, series.organization_id)
    assert manager is not None and rep is not None and org is not None
    return SeriesSpec(
        series_id=series.id,
        organization_id=series.organization_id,
        organiser_email=manager.email,
        attendee_email=rep.email,
        title=series_title(manager, rep),
        slot=series_slot(series),
        first_day=series.first_day,
        agenda=agenda or session_document(db, first_session(db, series), link, today=today),
        until=series.until,
        video_meeting=org.video_meetings,
    )


def series_ref(series: Series) -> SeriesRef:
    if series.provider_event_id is None:
        raise ValueError(f"series {series.id} is not booked at the provider yet")
    return SeriesRef(series.provider_event_id)


def end_series(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    series_id: str,
    from_day: date,
    actor_id: str | None,
    link: AgendaLink,
    now: datetime,
    reason: str = "cancelled",
) -> None:
    """No more 1:1s of this series on or after ``from_day``; the rep is told by the calendar."""
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        if series.status == SeriesStatus.ENDED and series.until and series.until < from_day:
            return
        spec = series_spec(db, series, link, today=now.date())
        ref = series_ref(series)
    provider.end_series(ref, spec, from_day)
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        series.until = from_day - timedelta(days=1)
        series.status = SeriesStatus.ENDED
        series.ended_reason = reason
        # Weeks that will never happen are not sessions: nothing to report on them. Deleted
        # through the ORM (a dozen rows at most) so the reports' derived rows follow.
        cutoff = local_instant(from_day, time(0), ZoneInfo(series.zone))
        for gone in db.scalars(
            select(Session).where(Session.series_id == series.id, Session.scheduled_start >= cutoff)
        ):
            db.delete(gone)
        audit(
            db,
            org_id=org_id,
            actor_id=actor_id,
            action="series.ended",
            subject=series,
            now=now,
            reason=reason,
            from_day=from_day.isoformat(),
        )


def change_series_time(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    series_id: str,
    slot: WeeklySlot,
    from_day: date,
    actor_id: str | None,
    link: AgendaLink,
    now: datetime,
) -> str:
    """Move the standing slot from ``from_day`` on: end the old series there and book its
    continuation (both tagged); returns the continuation's id. Safe to call again."""
    with database.session() as db:
        old = get_in_org(db, Series, org_id, series_id)
        manager_id, rep_id, connection_id = old.manager_id, old.rep_id, old.connection_id
        continuation = db.scalar(
            select(Series.id).where(
                Series.organization_id == org_id, Series.previous_series_id == old.id
            )
        )
    if continuation is None:
        _refuse_the_past(slot, slot.first_on_or_after(from_day), now)  # before ending the old
        end_series(
            database,
            provider,
            org_id=org_id,
            series_id=series_id,
            from_day=from_day,
            actor_id=actor_id,
            link=link,
            now=now,
            reason="new weekly time",
        )
    return book_series(
        database,
        provider,
        org_id=org_id,
        manager_id=manager_id,
        rep_id=rep_id,
        connection_id=connection_id,
        slot=slot,
        first_day=from_day,
        link=link,
        now=now,
        previous_series_id=series_id,
    )
