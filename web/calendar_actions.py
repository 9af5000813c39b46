"""What a manager does to their calendar, from a page or the API: one function each.

Each opens the manager's calendar, turns its failures into ``CalendarUnavailable`` (a dead
grant also flags the connection) and calls the use case with the app's database, agenda
links and clock, so every caller does it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from integrations.base import CalendarProvider
from scheduler.models import CalendarConnection, Person
from scheduler.recurrence import WeeklySlot
from scheduler.usecases import booking, weeks
from web.providers import calendar_errors, manager_calendar
from web.services import cadence

T = TypeVar("T")


def _with_calendar(
    manager: Person, action: Callable[[CalendarProvider, CalendarConnection], T]
) -> T:
    connection, calendar = manager_calendar(manager.organization_id, manager.id)
    with calendar_errors(connection):
        return action(calendar, connection)


def book(manager: Person, rep_id: str, slot: WeeklySlot, first_day: date) -> str:
    """Book the pair's weekly series (idempotent); raises ``AlreadyBooked`` for another slot."""
    services = cadence()
    return _with_calendar(
        manager,
        lambda calendar, connection: booking.book_series(
            services.database,
            calendar,
            org_id=manager.organization_id,
            manager_id=manager.id,
            rep_id=rep_id,
            connection_id=connection.id,
            slot=slot,
            first_day=first_day,
            link=services.agenda_link,
            now=services.now(),
        ),
    )


def retime(manager: Person, series_id: str, slot: WeeklySlot, from_day: date) -> str:
    """A new standing time from ``from_day``; returns the continuation's id."""
    services = cadence()
    return _with_calendar(
        manager,
        lambda calendar, _connection: booking.change_series_time(
            services.database,
            calendar,
            org_id=manager.organization_id,
            series_id=series_id,
            slot=slot,
            from_day=from_day,
            actor_id=manager.id,
            link=services.agenda_link,
            now=services.now(),
        ),
    )


def end(manager: Person, series_id: str, from_day: date) -> None:
    services = cadence()
    _with_calendar(
        manager,
        lambda calendar, _connection: booking.end_series(
            services.database,
            calendar,
            org_id=manager.organization_id,
            series_id=series_id,
            from_day=from_day,
            actor_id=manager.id,
            link=services.agenda_link,
            now=services.now(),
        ),
    )


def move(manager: Person, session_id: str, new_start: datetime) -> None:
    services = cadence()
    _with_calendar(
        manager,
        lambda calendar, _connection: weeks.move_session(
            services.database,
            calendar,
            org_id=manager.organization_id,
            session_id=session_id,
            new_start=new_start,
            actor_id=manager.id,
            link=services.agenda_link,
            now=services.now(),
        ),
    )


def cancel(manager: Person, session_id: str) -> None:
    services = cadence()
    _with_calendar(
        manager,
        lambda calendar, _connection: weeks.cancel_session(
            services.database,
            calendar,
            org_id=manager.organization_id,
            session_id=session_id,
            actor_id=manager.id,
            link=services.agenda_link,
            now=services.now(),
        ),
    )
