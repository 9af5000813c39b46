"""Opening a manager's calendar: the connection row, and the adapter that speaks to it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from integrations.base import (
    CalendarProvider,
    ProviderError,
    RateLimited,
    ReconnectRequired,
    Transient,
)
from scheduler.models import CalendarConnection, ConnectionStatus, Person, Provider
from scheduler.usecases.connections import reporting_lost_grants
from web.services import cadence


class CalendarUnavailable(Exception):
    """The calendar cannot be used right now; the message says why, in the user's words."""


class NoCalendar(CalendarUnavailable):
    """The manager has no working calendar connection: they must connect (or reconnect)."""


@contextmanager
def calendar_errors(connection: CalendarConnection) -> Iterator[None]:
    """Provider calls inside: a dead grant flags the connection (the banner appears), and every
    provider failure becomes ``CalendarUnavailable`` with a message a page can show."""
    services = cadence()
    try:
        with reporting_lost_grants(
            services.database,
            org_id=connection.organization_id,
            connection_id=connection.id,
            now=services.now(),
        ):
            yield
    except ReconnectRequired as error:
        raise NoCalendar("Your calendar connection needs reconnecting.") from error
    except RateLimited as error:
        raise CalendarUnavailable("Your calendar is busy right now: try in a minute.") from error
    except Transient as error:
        raise CalendarUnavailable("Your calendar did not answer: try again shortly.") from error
    except ProviderError as error:
        raise CalendarUnavailable(f"Your calendar refused the change ({error}).") from error


def manager_connection(org_id: str, manager_id: str) -> CalendarConnection | None:
    """The manager's calendar connection, newest first among active ones."""
    with cadence().database.session() as db:
        rows = db.scalars(
            select(CalendarConnection)
            .where(
                CalendarConnection.organization_id == org_id,
                CalendarConnection.person_id == manager_id,
                CalendarConnection.status != ConnectionStatus.DISCONNECTED,
            )
            .order_by(CalendarConnection.created_at.desc())
        ).all()
    active = [row for row in rows if row.status == ConnectionStatus.ACTIVE]
    chosen = active or rows
    return chosen[0] if chosen else None


def manager_calendar_row(org_id: str, manager_id: str) -> CalendarConnection:
    """The manager's usable connection, without opening its calendar (pages answered from
    the stored busy time need none); ``NoCalendar`` when there is none usable."""
    connection = manager_connection(org_id, manager_id)
    if connection is None:
        raise NoCalendar("Connect your calendar first.")
    if connection.status == ConnectionStatus.RECONNECT_REQUIRED:
        raise NoCalendar("Your calendar connection needs reconnecting.")
    return connection


def manager_calendar(org_id: str, manager_id: str) -> tuple[CalendarConnection, CalendarProvider]:
    """The manager's connection and its calendar; ``NoCalendar`` when there is none usable."""
    connection = manager_calendar_row(org_id, manager_id)
    return connection, cadence().providers(connection)


def own_calendars(org_id: str, people: Iterable[Person]) -> dict[str, CalendarProvider]:
    """The calendars these people connected themselves, by email: they speak for their
    owners where the manager's connection cannot read them (CalDAV reads only its own)."""
    by_id = {person.id: person for person in people}
    with cadence().database.session() as db:
        rows = db.scalars(
            select(CalendarConnection).where(
                CalendarConnection.organization_id == org_id,
                CalendarConnection.person_id.in_(by_id),
                CalendarConnection.status == ConnectionStatus.ACTIVE,
            )
        ).all()
    return {by_id[row.person_id].email: cadence().providers(row) for row in rows}


def reconnect_needed(person: Person) -> list[CalendarConnection]:
    """The person's connections whose grant died: the banner on every page names them."""
    with cadence().database.session() as db:
        return list(
            db.scalars(
                select(CalendarConnection).where(
                    CalendarConnection.organization_id == person.organization_id,
                    CalendarConnection.person_id == person.id,
                    CalendarConnection.status == ConnectionStatus.RECONNECT_REQUIRED,
                )
            )
        )


def calendar_tells_the_rep(manager: Person) -> bool:
    """Whether the manager's calendar tells the rep of a booking, move or cancellation:
    Google and Outlook send the attendee an update; a CalDAV server only stores the event in
    the manager's calendar (servers with CalDAV scheduling email the attendee, Radicale does
    not)."""
    connection = manager_connection(manager.organization_id, manager.id)
    return connection is None or connection.provider != Provider.CALDAV
