"""The demo seed on a fresh SQLite and a real Radicale gives exactly the intended figures."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from pathlib import Path

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from integrations.caldav import CalDAVCalendar
from integrations.caldav.series_ical import SERIES_PROPERTY
from integrations.outbound import OutboundPolicy
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.defend import ConflictState
from scheduler.intervals import BusyKind, Interval
from scheduler.models import (
    ActionItem,
    CalendarConnection,
    DebriefNudge,
    OutboxMessage,
    Person,
    Series,
    SeriesStatus,
    Session,
    SlotConflict,
)
from scheduler.settings import Settings
from scheduler.usecases.calendar_sync import sync_connection
from scheduler.usecases.connections import ConnectionTokenStore
from scheduler.usecases.joining import membership
from scheduler.usecases.proposals import propose_slots
from scheduler.usecases.stored_availability import live_reader
from tests.web.conftest import post
from web.app import create_app
from web.demo.__main__ import demo_settings
from web.demo.people import (
    BY_KEY,
    HISTORY_WEEKS,
    MANAGERS,
    PASSWORD,
    REPS,
    planned_outcomes,
    radicale_users,
)
from web.demo.radicale import RadicaleServer, free_port, radicale_url, running_radicale
from web.demo.seed import CANCEL_REASONS, CHASED_WEEKS, HalfSeeded, Seeded, history_start, seed
from web.demo.signin import DemoInfo, describe_demo, enable_demo_signin

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
    def __init__(
        self,
        database: Database,
        cipher: TokenCipher,
        server: RadicaleServer,
        settings: Settings,
        seeded: Seeded,
    ):
        self.database = database
        self.cipher = cipher
        self.server = server
        self.settings = settings
        self.seeded = seeded

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
    port = free_port()
    settings = demo_settings(folder, "127.0.0.1", 5000, {}, radicale_url(port))
    database = Database(settings.database_url)
    database.create_schema()
    cipher = TokenCipher(settings.token_keys)
    with running_radicale(radicale_users(), folder=folder / "radicale", port=port) as server:
        seeded = seed(database, cipher, server, link, settings=settings, now=NOW)
        yield Demo(database, cipher, server, settings, seeded)
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
        seed(demo.database, demo.cipher, demo.server, link, settings=demo.settings, now=NOW)


def test_vacation_weeks_are_excused_from_the_reps_calendars(demo: Demo):
    reasons = Counter(row.excused_reason for row in demo.history() if row.outcome == "excused")
    assert reasons == {
        "Ben Carter out of office": 1,
        "Emma Clarke out of office": 1,
        "Grace Okafor out of office": 2,
        "Jack Kim out of office": 1,
    }


# ---------------------------------------------------------------------------- the emails


NEXT_MONDAY = THIS_MONDAY + timedelta(weeks=1)


@pytest.fixture(scope="module")
def app(demo: Demo) -> Flask:
    """The demo's app on the seed's data, its clock at the seed's ``now``."""
    flask_app = create_app(demo.settings, database=demo.database, clock=lambda: NOW)
    enable_demo_signin(flask_app, host="127.0.0.1")
    describe_demo(flask_app, DemoInfo(demo.seeded.org_id, demo.server.url, PASSWORD))
    return flask_app


def signed_in(app: Flask, demo: Demo, key: str) -> FlaskClient:
    client = app.test_client()
    path = f"/demo/signin/{demo.seeded.person_ids[key]}"
    assert post(client, path, page="/demo/").status_code == 302
    return client


def outbox(demo: Demo, kind: str) -> list[OutboxMessage]:
    with demo.database.session() as db:
        return list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.created_at)
            )
        )


def conflicts_of(demo: Demo, rep: str) -> list[SlotConflict]:
    with demo.database.session() as db:
        return list(
            db.scalars(
                select(SlotConflict).where(SlotConflict.rep_id == demo.seeded.person_ids[rep])
            )
        )


def test_a_new_busy_block_next_week_mails_patrick_the_alternatives(demo: Demo, app: Flask):
    """Alice's customer demo, added after Cadence read her calendar, lands on next Monday's
    1:1: Patrick (policy "ask") gets one email with three times and a cancel link, and each
    link opens its confirmation page from the outbox."""
    (conflict,) = conflicts_of(demo, "alice")
    assert conflict.state == ConflictState.MAILED and conflict.week_start == NEXT_MONDAY
    assert conflict.detected_at == NOW - timedelta(minutes=30)
    assert [span["email"] for span in conflict.busy] == ["alice@northwind.example"]
    (mail,) = [m for m in outbox(demo, "conflict") if m.key == f"conflict/{conflict.id}"]
    assert mail.to_email == "patrick@northwind.example"
    assert "Globex" not in mail.text_body  # free/busy only, never the title
    links = [word for word in mail.text_body.split() if "/slot/" in word]
    assert len(links) == 4  # three alternatives, then "Cancel this week"
    page = app.test_client().get("/demo/outbox").get_data(as_text=True)
    for number, url in enumerate(links):
        assert f'<a href="{url}">' in page
        path = url.removeprefix(demo.settings.base_url)
        answer = app.test_client().get(path).get_data(as_text=True)
        assert "Alice Nguyen" in answer
        expected = "Cancel this week" if number == 3 else "Move this week"
        assert expected in answer, answer


def test_matts_weeks_are_moved_automatically_and_both_are_told(demo: Demo, app: Flask):
    """Matt's policy is "auto": Jack's onsite moved next Tuesday's 1:1, Kate's customer call
    moved a past week (the reports count it); each time Matt and the rep got an email."""
    with demo.database.session() as db:
        matt = db.get(Person, demo.seeded.person_ids["matt"])
        assert matt is not None and matt.conflict_policy == "auto"
    for rep, week in (("jack", NEXT_MONDAY), ("kate", THIS_MONDAY - timedelta(weeks=3))):
        (conflict,) = conflicts_of(demo, rep)
        assert conflict.state == ConflictState.MOVED_AUTOMATICALLY, rep
        assert conflict.week_start == week and conflict.moved_to is not None
        with demo.database.session() as db:
            session = db.get(Session, conflict.session_id)
            assert session is not None and session.current_start == conflict.moved_to
        mails = [
            m for m in outbox(demo, "auto-move") if m.key.startswith(f"auto-move/{session.id}/")
        ]
        assert sorted(m.to_email for m in mails) == sorted(
            f"{key}@northwind.example" for key in ("matt", rep)
        )
    (jacks,) = conflicts_of(demo, "jack")
    series = signed_in(app, demo, "matt").get(f"/manager/series/{jacks.series_id}")
    assert "Moved automatically to avoid a conflict" in series.get_data(as_text=True)


def test_the_last_two_weeks_were_chased_nudges_and_reminders(demo: Demo):
    """The chase ran after every 1:1 of the last two weeks: a nudge each time the 1:1 took
    place, a reminder when nothing was recorded; the held ones were debriefed after it."""
    chased = [rep.plan[HISTORY_WEEKS - CHASED_WEEKS :] for rep in REPS]
    with demo.database.session() as db:
        kinds = Counter(db.scalars(select(DebriefNudge.kind)))
    assert kinds == {
        "nudge": sum(letter in "HUV" for plan in chased for letter in plan),
        "reminder": sum(letter in "UV" for plan in chased for letter in plan),
    }
    mails = outbox(demo, "debrief-nudge")
    assert len(mails) == sum(kinds.values())
    assert any("reminder" in mail.key for mail in mails)
    assert all("/debrief/" in mail.text_body for mail in mails)


def test_a_manager_finds_his_first_nudge_in_the_outbox_and_reads_it_as_sent(demo: Demo, app: Flask):
    """The outbox narrowed to the recipient of the chase's first nudge shows only his mail,
    that nudge among it; its page frames the HTML part, whose button is the debrief link."""
    earliest = outbox(demo, "debrief-nudge")[0]
    client = app.test_client()
    page = client.get(f"/demo/outbox?to={earliest.to_email}").get_data(as_text=True)
    assert set(re.findall(r"To <strong>([^<]+)</strong>", page)) == {earliest.to_email}
    assert f'<a href="/demo/outbox/{earliest.id}">' in page
    message = client.get(f"/demo/outbox/{earliest.id}").get_data(as_text=True)
    assert f'<iframe class="mail-frame" src="/demo/outbox/{earliest.id}/html"' in message
    part = client.get(f"/demo/outbox/{earliest.id}/html").get_data(as_text=True)
    (debrief,) = re.findall(r'href="([^"]+/debrief/[^"]+)"', part)
    assert unescape(debrief) in earliest.text_body


def test_the_reps_got_their_monday_email_last_week(demo: Demo):
    mails = outbox(demo, "rep-items")
    last_monday = (THIS_MONDAY - timedelta(weeks=1)).isoformat()
    assert mails and all(mail.key.startswith(f"rep-items/{last_monday}/") for mail in mails)
    assert all("/items/done/" in mail.text_body for mail in mails)
    assert {mail.to_email for mail in mails} <= {rep.email for rep in REPS}


def test_the_report_overview_shows_the_defence_and_the_chase(demo: Demo, app: Flask):
    client = signed_in(app, demo, "jordan")
    totals = client.get("/api/v1/reports/overview").get_json()
    defended, chase = totals["conflicts"], totals["debrief_chase"]
    assert defended["detected"] >= 1 and defended["moved_automatically"] == 1
    assert chase["emails"] > 0 and chase["debriefed_after_nudge"] > 0
    page = client.get("/reports/").get_data(as_text=True)
    assert "Defend the slot" in page and "Debrief chase" in page
    assert f"<dt>Conflicts detected</dt><dd>{defended['detected']}</dd>" in page
