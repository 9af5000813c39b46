"""Reading a series' sessions back in tests."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.db import Database
from scheduler.models import Session


def series_sessions(database: Database, series_id: str) -> list[Session]:
    """The series' sessions, earliest first."""
    with database.session() as db:
        return list(
            db.scalars(
                select(Session)
                .where(Session.series_id == series_id)
                .order_by(Session.scheduled_start)
            )
        )
