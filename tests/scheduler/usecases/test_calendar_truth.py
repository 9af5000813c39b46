"""Each week's calendar truth, through the real adapters: the Google and Graph emulators with
the real client libraries, and a real Radicale for CalDAV.

The rep declines one week, then answers the whole series; Cadence ends the series from a
later week; the daily reconciliation reads everything again. The providers list events in
any order (shuffled here, by seed): the week's own answer always wins over the series'.
A week the manager cancels in their own calendar app was cancelled by the manager.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import uuid4

import icalendar
import pytest

from integrations.base import CalendarProvider
from integrations.caldav import CalDAVCalendar, CalDAVCredentials
from integrations.google import GoogleCalendar
from integrations.outbound import OutboundPolicy
from integrations.outlook import OutlookCalendar
from integrations.retry import RetryPolicy
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import Provider, Series, Session
from scheduler.usecases.booking import end_series
from scheduler.usecases.calendar_sync import sync_connection
from scheduler.usecases.connections import save_connection
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.emulators.tls import LocalCA
from tests.fakes import MemoryTokenStore
from tests.integrations.outlook_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    settings_for,
    sign_in,
)
from tests.integrations.test_google_calendar import blob_for
from tests.scheduler.usecases.conftest import NOW, Team, link
from tests.scheduler.usecases.test_booking import book
from tests.sessions import series_sessions
from web.demo.radicale import RadicaleServer, running_radicale

MANAGER, REP = "pat@acme.test", "george@acme.test"
SEEDS = range(3)


class World(Protocol):
    """One provider's calendars, and the people acting in them outside Cadence."""

    provider: Provider
    calendar: CalendarProvider

    def shuffle(self, seed: int) -> None: ...

    def accept_series(self, series: Series) -> None: ...

    def decline(self, series: Series, week: datetime) -> None: ...

    def cancel(self, series: Series, week: datetime) -> None: ...


@dataclass
class GoogleWorld:
    emulator: GoogleEmulator
    calendar: GoogleCalendar
    provider: Provider = Provider.GOOGLE

    def shuffle(self, seed: int) -> None:
        self.emulator.list_order_seed = seed

    def accept_series(self, series: Series) -> None:
        self.emulator.respond(REP, MANAGER, _event(series), "accepted")

    def decline(self, series: Series, week: datetime) -> None:
        self.emulator.respond(REP, MANAGER, _event(series), "declined", original_start=week)

    def cancel(self, series: Series, week: datetime) -> None:
        self.emulator.cancel_occurrence(MANAGER, _event(series), week)


@dataclass
class OutlookWorld:
    graph: GraphEmulator
    calendar: OutlookCalendar
    provider: Provider = Provider.MICROSOFT

    def shuffle(self, seed: int) -> None:
        self.graph.shuffle_delta(seed)

    def accept_series(self, series: Series) -> None:
        self.graph.respond_to_series(REP, _event(series), "accepted")

    def decline(self, series: Series, week: datetime) -> None:
        self.graph.decline_occurrence(REP, _event(series), week)

    def cancel(self, series: Series, week: datetime) -> None:
        self.graph.cancel_occurrence(_event(series), week)


@dataclass
class CalDAVWorld:
    """The manager's calendar in Radicale, edited by another app (which writes the object's
    VEVENTs in its own order: shuffled by the seed)."""

    server: RadicaleServer
    calendar_name: str
    calendar: CalDAVCalendar
    provider: Provider = Provider.CALDAV
    order: random.Random | None = None

    def shuffle(self, seed: int) -> None:
        self.order = random.Random(seed)

    def accept_series(self, series: Series) -> None:
        self._edit(series, lambda ical: _answer(_master(ical), "ACCEPTED"))

    def decline(self, series: Series, week: datetime) -> None:
        self._edit(series, lambda ical: _answer(_override(ical, week), "DECLINED"))

    def cancel(self, series: Series, week: datetime) -> None:
        self._edit(series, lambda ical: _master(ical).add("exdate", week))

    def _edit(self, series: Series, edit: Callable[[icalendar.Calendar], object]) -> None:
        with self.server.client("pat") as client:
            other_app = client.principal().calendar(name=self.calendar_name)
            event = other_app.event_by_uid(_event(series))
            ical = icalendar.Calendar.from_ical(event.data)
            edit(ical)
            if self.order is not None:
                events = [c for c in ical.subcomponents if c.name == "VEVENT"]
                self.order.shuffle(events)
                rest = [c for c in ical.subcomponents if c.name != "VEVENT"]
                ical.subcomponents[:] = rest + events
            event.save(raw_data=ical.to_ical())


def _event(series: Series) -> str:
    assert series.provider_event_id is not None
    return series.provider_event_id


def _master(ical: icalendar.Calendar) -> icalendar.Event:
    return next(event for event in ical.events if "RECURRENCE-ID" not in event)


def _override(ical: icalendar.Calendar, week: datetime) -> icalendar.Event:
    """A new override of one occurrence, a copy of the series as calendar apps make it."""
    master = _master(ical)
    zone = master.start.tzinfo
    override = copy.deepcopy(master)
    for name in ("RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION"):
        override.pop(name, None)
    override.add("recurrence-id", week.astimezone(zone))
    override.add("dtstart", week.astimezone(zone))
    override.add("dtend", (week + (master.end - master.start)).astimezone(zone))
    ical.add_component(override)
    return override


def _answer(event: icalendar.Event, partstat: str) -> None:
    for attendee in event.attendees:
        if attendee.email.lower() == REP:
            attendee.params["PARTSTAT"] = partstat


# ---------------------------------------------------------------------------- the worlds


@pytest.fixture(scope="module")
def ca() -> Iterator[LocalCA]:
    authority = LocalCA()
    yield authority
    authority.close()


@pytest.fixture(scope="module")
def google(ca: LocalCA) -> Iterator[GoogleEmulator]:
    with GoogleEmulator({MANAGER: "Patrick", REP: "George"}, ca=ca) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def graph(ca: LocalCA) -> Iterator[GraphEmulator]:
    with GraphEmulator(ca=ca) as emulator:
        emulator.add_mailbox(MANAGER, "Patrick", "Eastern Standard Time")
        emulator.add_mailbox(REP, "George", "Eastern Standard Time")
        emulator.register_app(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
        yield emulator


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale({"pat": "app-password"}) as server:
        yield server


@pytest.fixture(params=[Provider.GOOGLE, Provider.MICROSOFT, Provider.CALDAV], ids=str)
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    retry = RetryPolicy(attempts=1)
    if request.param is Provider.GOOGLE:
        emulator: GoogleEmulator = request.getfixturevalue("google")
        emulator.list_order_seed = None
        tokens = MemoryTokenStore(blob_for(emulator, MANAGER))
        yield GoogleWorld(emulator, GoogleCalendar(emulator.settings(), tokens, retry))
    elif request.param is Provider.MICROSOFT:
        graph: GraphEmulator = request.getfixturevalue("graph")
        graph.shuffle_delta(None)
        tokens = MemoryTokenStore(sign_in(graph, MANAGER))
        outlook = OutlookCalendar(settings_for(graph), tokens, retry=retry, clock=lambda: NOW)
        yield OutlookWorld(graph, outlook)
    else:
        server: RadicaleServer = request.getfixturevalue("radicale")
        name = f"work-{uuid4().hex[:8]}"
        server.make_calendar("pat", name, name)
        credentials = CalDAVCredentials(server.url, "pat", "app-password", MANAGER, name)
        caldav = CalDAVCalendar(
            MemoryTokenStore(credentials.to_blob()),
            zone="America/New_York",
            retry=retry,
            outbound=OutboundPolicy.trusting([server.url]),  # the local Radicale, on loopback
        )
        yield CalDAVWorld(server, name, caldav)
        caldav.close()


@dataclass
class Booked:
    """A weekly series booked through ``world``, and the manager's connection to sync."""

    world: World
    database: Database
    team: Team
    series: Series
    connection_id: str

    def sync(self, *, full: bool = False) -> None:
        sync_connection(
            self.database,
            self.world.calendar,
            org_id=self.team.org_id,
            connection_id=self.connection_id,
            now=NOW,
            full=full,
        )

    def weeks(self) -> list[Session]:
        return series_sessions(self.database, self.series.id)


@pytest.fixture
def booked(world: World, database: Database, team: Team, token_key: str) -> Booked:
    series_id = book(database, world.calendar, team)
    connection_id = save_connection(
        database,
        TokenCipher([token_key]),
        org_id=team.org_id,
        person_id=team.manager_id,
        provider=world.provider,
        account_email=MANAGER,
        grant=b"{}",  # the adapter above holds the real grant
        now=NOW,
    )
    with database.session() as db:
        series = db.get(Series, series_id)
        assert series is not None
    booked = Booked(world, database, team, series, connection_id)
    booked.sync()  # the connection's first read: everything Cadence booked, as it is
    return booked


# ---------------------------------------------------------------------------- the rules


@pytest.mark.parametrize("seed", SEEDS)
def test_a_week_the_rep_declined_stays_declined_whatever_the_series_and_the_order(
    booked: Booked, seed: int
) -> None:
    world, series = booked.world, booked.series
    world.shuffle(seed)
    declined = booked.weeks()[1].scheduled_start

    def answers() -> tuple[str | None, set[str | None]]:
        rows = {row.scheduled_start: row.rep_response for row in booked.weeks()}
        return rows.pop(declined), set(rows.values())

    world.decline(series, declined)
    booked.sync()
    assert answers()[0] == "declined"

    world.accept_series(series)  # later: the series' answer, read on its own
    booked.sync()
    assert answers() == ("declined", {"accepted"})

    # A series-level change: Cadence ends the series from a later week.
    end_series(
        booked.database,
        world.calendar,
        org_id=booked.team.org_id,
        series_id=series.id,
        from_day=date(2026, 12, 1),
        actor_id=booked.team.manager_id,
        link=link,
        now=NOW,
    )
    booked.sync()
    assert answers() == ("declined", {"accepted"})

    booked.sync(full=True)  # the daily reconciliation reads everything, in any order
    assert answers() == ("declined", {"accepted"})


def test_a_week_cancelled_in_the_managers_own_calendar_was_cancelled_by_the_manager(
    booked: Booked,
) -> None:
    week = booked.weeks()[2].scheduled_start

    booked.world.cancel(booked.series, week)
    booked.sync()
    booked.sync(full=True)

    cancelled = {row.scheduled_start: (row.cancelled, row.cancelled_by) for row in booked.weeks()}
    assert cancelled.pop(week) == (True, "manager")
    assert set(cancelled.values()) == {(False, None)}
