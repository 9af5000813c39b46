"""The demo seed on a fresh SQLite and a real Radicale gives exactly the intended figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from integrations.caldav import CalDAVCalendar
from integrations.caldav.series_ical import SERIES_PROPERTY
from integrations.outbound import OutboundPolicy
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.intervals import BusyKind, Interval
from scheduler.models import ActionItem, CalendarConnection, Person, Series, SeriesStatus, Session
from scheduler.usecases.calendar_sync import sync_connection
from scheduler.usecases.connections import ConnectionTokenStore
from scheduler.usecases.joining import membership
from scheduler.usecases.proposals import propose_slots
from scheduler.usecases.stored_availability import live_reader
from web.demo.people import BY_KEY, MANAGERS, REPS, planned_outcomes, radicale_users
from web.demo.radicale import RadicaleServer, running_radicale
from web.demo.seed import CANCEL_REASONS, HalfSeeded, Seeded, history_start, seed

# Monday 00:30 UTC — still Sunday evening in New York and Los Angeles: the edge of a week.
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
THIS_MONDAY = date(2026, 11, 30)
HISTORY = {
    "held": 79,
    "undocumented": 31,
    "cancelled": 16,
    "declined": 5,
    "moved": 4,
    "excused": 5,
    "stopped": 4,
}


def link(org_id: str, session_id: str) -> str:
    return f"http://127.0.0.1:5000/agenda/{session_id}"


class Demo:
    def __init__(self, database: Database, cipher: TokenCipher, server: RadicaleServer, seeded):
        self.database = database
        self.cipher = cipher
        self.server = server
        self.seeded: Seeded = seeded

    def calendar(self, key: str) -> CalDAVCalendar:
        with self.database.session() as db:
            connection_id = db.scalar(
                select(CalendarConnection.id).where(
                    CalendarConnection.person_id == self.seeded.person_ids[key]
                )
            )
        assert connection_id is not None
        store = ConnectionTokenStore(self.database, self.cipher, self.seeded.org_id, connection_id)
        return CalDAVCalendar(
            store, zone=BY_KEY[key].zone, outbound=OutboundPolicy.trusting([self.server.url])
        )

    def history(self) -> list[Session]:
        with self.database.session() as db:
            return list(db.scalars(select(Session).where(Session.week_start < THIS_MONDAY)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder: Path = tmp_path_factory.mktemp("demo")
    database = Database(f"sqlite:///{folder / 'cadence.db'}")
    database.create_schema()
    cipher = TokenCipher([Fernet.generate_key().decode()])
    with running_radicale(radicale_users(), folder=folder / "radicale") as server:
        yield Demo(database, cipher, server, seed(database, cipher, server, link, now=NOW))
    database.engine.dispose()


def test_the_history_is_twelve_weeks_before_the_current_one():
    assert history_start(NOW) == THIS_MONDAY - timedelta(weeks=12)
    assert history_start(NOW - timedelta(minutes=31)) == THIS_MONDAY - timedelta(weeks=13)


def test_each_outcome_as_often_as_planned(demo: Demo):
    outcomes = Counter(row.outcome for row in demo.history())
    assert outcomes == HISTORY
    assert outcomes == planned_outcomes()
    assert sum(outcomes.values()) == 12 * 12


def test_cancellations_say_who(demo: Demo):
    cancelled = Counter(row.cancelled_by for row in demo.history() if row.outcome == "cancelled")
    assert cancelled == {"manager": 11, "rep": 5}
    reasons = {row.cancel_reason for row in demo.history() if row.cancelled_by == "manager"}
    assert reasons <= set(CANCEL_REASONS) and len(reasons) > 1


def test_each_rep_has_twelve_weeks_in_their_own_pattern(demo: Demo):
    rows = demo.history()
    for rep in REPS:
        mine = sorted(
            (row for row in rows if row.rep_id == demo.seeded.person_ids[rep.key]),
            key=lambda row: row.scheduled_start,
        )
        assert [row.outcome for row in mine] == [
            {"H": "held", "U": "undocumented", "M": "cancelled", "R": "cancelled"}.get(
                letter,
                {"D": "declined", "V": "moved", "E": "excused", "S": "stopped"}.get(letter),
            )
            for letter in rep.plan
        ], rep.key


def test_debriefs_have_three_items_some_done_some_overdue(demo: Demo):
    with demo.database.session() as db:
        items = list(db.scalars(select(ActionItem)))
        held = db.scalar(select(func.count()).where(Session.outcome == "held"))
    today = NOW.date()
    assert held == 79
    assert len(items) == 3 * 79
    assert sum(item.done_at is not None for item in items) == 152
    assert sum(item.done_at is None and item.due_date < today for item in items) == 79
    assert sum(item.done_at is None and item.due_date >= today for item in items) == 6
    by_session = Counter(item.session_id for item in items if item.owner == "manager")
    assert len(by_session) == 79  # the manager owns at least one item of every debrief


def test_people_roles_and_zones(demo: Demo):
    with demo.database.session() as db:
        people = list(db.scalars(select(Person)))
        connections = list(db.scalars(select(CalendarConnection)))
    assert sum(person.is_admin for person in people) == 1
    assert sum(person.is_manager for person in people) == 3  # the admin manages no one
    reps = [person for person in people if person.is_rep]
    assert Counter(rep.zone for rep in reps) == {
        "America/New_York": 4,
        "Europe/London": 4,
        "America/Los_Angeles": 4,
    }
    # Diego set his own working hours on his account page; everyone else follows Northwind's.
    assert {p.email: p.working_hours for p in people if p.working_hours} == {
        "diego@northwind.example": {str(day): [["07:00", "15:00"]] for day in range(5)}
    }
    # Managers and reps alike connected their own calendar: everyone's busy time is known.
    assert len(connections) == len(people) == 16
    assert {connection.provider.value for connection in connections} == {"caldav"}
    # Everyone in the story accepted their invitation long ago: members, none pending.
    assert {membership(person) for person in people} == {"member"}


def test_series_are_in_the_managers_radicale_calendars(demo: Demo):
    with demo.database.session() as db:
        status = Counter(series.status for series in db.scalars(select(Series)))
    assert status == {SeriesStatus.ACTIVE: 11, SeriesStatus.STOPPED: 1}
    in_radicale = {}
    for manager in MANAGERS:
        with demo.server.client(manager.key) as client:
            (calendar,) = client.principal().get_calendars()
            objects = [icalendar.Calendar.from_ical(event.data) for event in calendar.events()]
        in_radicale[manager.key] = [
            ical for ical in objects if any(SERIES_PROPERTY in event for event in ical.events)
        ]
    # Matt deleted Liam's series in his calendar app.
    assert {key: len(found) for key, found in in_radicale.items()} == {
        "patrick": 4,
        "maria": 4,
        "matt": 3,
    }
    exdates = sum(
        len(event.exdates)
        for found in in_radicale.values()
        for ical in found
        for event in ical.events
    )
    # Every cancelled week, by either side, but Liam's: his series is gone with its EXDATE.
    assert exdates == 11 + 5 - BY_KEY["liam"].plan.count("M")


def test_a_reps_own_calendar_shows_real_busy_time(demo: Demo):
    ben = BY_KEY["ben"]
    vacation_week = history_start(NOW) + timedelta(weeks=ben.plan.index("E"))
    window = Interval(
        datetime.combine(vacation_week, time(0), tzinfo=UTC),
        datetime.combine(vacation_week + timedelta(weeks=2), time(0), tzinfo=UTC),
    )
    calendar = demo.calendar("ben")
    try:
        seen = calendar.free_busy([ben.email], window)[ben.email]
    finally:
        calendar.close()
    assert not seen.unknown
    kinds = Counter(busy.kind for busy in seen.busy)
    assert kinds[BusyKind.OUT_OF_OFFICE] == 1
    assert kinds[BusyKind.BUSY] >= 10  # stand-ups, prospecting blocks, training, check-ins


def test_proposals_for_a_rep_avoid_both_calendars(demo: Demo):
    """Maria's slots for Finn, read through both people's own connections."""
    finn = BY_KEY["finn"]
    maria_calendar, finn_calendar = demo.calendar("maria"), demo.calendar("finn")
    try:
        (proposal,) = propose_slots(
            demo.database,
            live_reader(maria_calendar, {finn.email: finn_calendar}),
            org_id=demo.seeded.org_id,
            manager_id=demo.seeded.person_ids["maria"],
            rep_ids=[demo.seeded.person_ids["finn"]],
            first_day=THIS_MONDAY + timedelta(weeks=1),
        )
    finally:
        maria_calendar.close()
        finn_calendar.close()
    assert proposal.candidates
    for candidate in proposal.candidates:
        start = candidate.slot.local_time
        assert start >= time(9, 15)  # both have the team stand-up at 9:00 London time
        if candidate.slot.weekday == 0:  # Maria's 1:1 with Emma, Mondays 10:00-10:30
            assert not time(9, 30) < start < time(10, 30)
    # Both vacations ahead (Maria in 3 weeks, Finn in 5) come from their own calendars.
    clashes = {
        (clash.email, clash.busy.kind)
        for week in proposal.candidates[0].conflicts
        for clash in week.clashes
    }
    assert clashes == {
        (BY_KEY["maria"].email, BusyKind.OUT_OF_OFFICE),
        (finn.email, BusyKind.OUT_OF_OFFICE),
    }


def test_a_full_resync_of_every_calendar_keeps_the_figures(demo: Demo):
    """What the embedded timer does first: read every calendar again from scratch."""
    for manager in MANAGERS:
        calendar = demo.calendar(manager.key)
        with demo.database.session() as db:
            connection_id = db.scalar(
                select(CalendarConnection.id).where(
                    CalendarConnection.person_id == demo.seeded.person_ids[manager.key]
                )
            )
        try:
            sync_connection(
                demo.database,
                calendar,
                org_id=demo.seeded.org_id,
                connection_id=connection_id,
                now=NOW,
                full=True,
            )
        finally:
            calendar.close()
    assert Counter(row.outcome for row in demo.history()) == HISTORY
    cancelled = Counter(row.cancelled_by for row in demo.history() if row.outcome == "cancelled")
    assert cancelled == {"manager": 11, "rep": 5}
    reasons = {row.cancel_reason for row in demo.history() if row.cancelled_by == "manager"}
    assert reasons <= set(CANCEL_REASONS) and len(reasons) > 1


def test_seeding_twice_is_refused(demo: Demo):
    with pytest.raises(HalfSeeded):
        seed(demo.database, demo.cipher, demo.server, link, now=NOW)


def test_vacation_weeks_are_excused_from_the_reps_calendars(demo: Demo):
    reasons = Counter(row.excused_reason for row in demo.history() if row.outcome == "excused")
    assert reasons == {
        "Ben Carter out of office": 1,
        "Emma Clarke out of office": 1,
        "Grace Okafor out of office": 2,
        "Jack Kim out of office": 1,
    }
