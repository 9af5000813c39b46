"""What a manager does to their calendar, from a page or the API: one function each.

Each opens the manager's calendar, turns its failures into ``CalendarUnavailable`` (a dead
grant also flags the connection) and calls the use case with the app's database, agenda
links and clock, so every caller does it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from scheduler.models import Person
from scheduler.recurrence import WeeklySlot
from scheduler.usecases import booking, weeks
from web.providers import calendar_errors, manager_calendar
from web.services import cadence

T = TypeVar("T")


def _run(
    manager: Person, use_case: Callable[..., T], *, pass_connection: bool = False, **arguments: Any
) -> T:
    """``use_case(database, calendar, org_id=..., link=..., now=..., **arguments)`` on the
    manager's calendar (plus ``connection_id`` when ``pass_connection``: a new series records
    which connection booked it)."""
    services = cadence()
    connection, calendar = manager_calendar(manager.organization_id, manager.id)
    if pass_connection:
        arguments["connection_id"] = connection.id
    with calendar_errors(connection):
        return use_case(
            services.database,
            calendar,
            org_id=manager.organization_id,
            link=services.agenda_link,
            now=services.now(),
            **arguments,
        )


def book(manager: Person, rep_id: str, slot: WeeklySlot, first_day: date) -> str:
    """Book the pair's weekly series (idempotent); raises ``AlreadyBooked`` for another slot."""
    return _run(
        manager,
        booking.book_series,
        pass_connection=True,
        manager_id=manager.id,
        rep_id=rep_id,
        slot=slot,
        first_day=first_day,
    )


def retime(manager: Person, series_id: str, slot: WeeklySlot, from_day: date) -> str:
    """A new standing time from ``from_day``; returns the continuation's id."""
    return _run(
        manager,
        booking.change_series_time,
        series_id=series_id,
        slot=slot,
        from_day=from_day,
        actor_id=manager.id,
    )


def end(manager: Person, series_id: str, from_day: date) -> None:
    _run(manager, booking.end_series, series_id=series_id, from_day=from_day, actor_id=manager.id)


def move(manager: Person, session_id: str, new_start: datetime) -> None:
    _run(
        manager, weeks.move_session, session_id=session_id, new_start=new_start, actor_id=manager.id
    )


def cancel(manager: Person, session_id: str, reason: str = "") -> None:
    _run(manager, weeks.cancel_session, session_id=session_id, actor_id=manager.id, reason=reason)
