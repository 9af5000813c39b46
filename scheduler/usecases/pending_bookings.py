"""Bookings a crashed worker left half done: the row says ``booking``, the calendar may or
may not have the event. Finishing is safe because the provider's idempotency key is the
series id (an event already created is adopted, never created twice)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.base import CalendarProvider
from scheduler.db import Database
from scheduler.models import Series, SeriesStatus
from scheduler.usecases.agendas import AgendaLink
from scheduler.usecases.booking import series_spec
from scheduler.usecases.scope import audit, get_in_org


def stale_bookings(db: DbSession, *, now: datetime, older_than: timedelta) -> list[tuple[str, str]]:
    """(organisation id, series id) of series still ``booking`` after ``older_than``."""
    rows = db.execute(
        select(Series.organization_id, Series.id).where(
            Series.status == SeriesStatus.BOOKING,
            Series.created_at <= now - older_than,
            Series.connection_id.is_not(None),
        )
    )
    return [(org_id, series_id) for org_id, series_id in rows]


def finish_booking(
    database: Database,
    provider: CalendarProvider,
    *,
    org_id: str,
    series_id: str,
    link: AgendaLink,
    now: datetime,
) -> bool:
    """Complete a ``booking`` series at the provider; returns whether it had to."""
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
            actor_id=None,
            action="series.booked",
            subject=series,
            now=now,
            recovered=True,
        )
    return True
