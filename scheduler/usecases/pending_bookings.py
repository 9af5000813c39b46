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
from scheduler.usecases.booking import complete_booking


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
    return complete_booking(
        database,
        provider,
        org_id=org_id,
        series_id=series_id,
        link=link,
        now=now,
        actor_id=None,
        recovered=True,
    )
