"""The CalDAV adapter against a real Radicale server, with a second client as another app.

Each test gets a fresh calendar in the manager's account. ``other_app`` is the same calendar
through the plain ``caldav`` library, used as Apple Calendar or Thunderbird would: read the
object, change it, write it back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest

from integrations.base import (
    AgendaDocument,
    CalendarChange,
    CalendarProvider,
    ChangeKind,
    NotFound,
    Response,
    SeriesRef,
    SeriesSpec,
)
from integrations.caldav import CalDAVCalendar, CalDAVCredentials, series_ical
from integrations.caldav.sync_cursor import SyncCursor
from integrations.outbound import OutboundPolicy
from integrations.retry import RetryPolicy
from scheduler.intervals import BusyKind, Interval
from scheduler.recurrence import WeeklySlot
from tests.fakes import MemoryTokenStore
from web.demo.radicale import RadicaleServer

MANAGER = "manager@example.com"
REP = "rep@example.com"
PARIS = ZoneInfo("Europe/Paris")
SLOT = WeeklySlot(weekday=0, local_time=time(9), duration=timedelta(minutes=30), zone=PARIS.key)
FIRST_DAY = date(2027, 3, 1)  # a Monday; Paris moves its clocks on 2027-03-28
AGENDA = AgendaDocument(
    title="1:1 agenda",
    text="1. Status update\n2. Coaching\n3. Customer's voice",
    html="<ol><li>Status update</li></ol>",
    url="https://cadence.example/agenda/s-1?sig=abc",
)


def week(n: int) -> datetime:
    """The UTC start of the series' occurrence ``n`` weeks after the first."""
    return SLOT.start_on(FIRST_DAY + timedelta(weeks=n))


def connected(
    radicale: RadicaleServer, calendar_name: str, sync_collection: bool = True
) -> CalDAVCalendar:
    credentials = CalDAVCredentials(radicale.url, "manager", "app-password", MANAGER, calendar_name)
    return CalDAVCalendar(
        MemoryTokenStore(credentials.to_blob()),
        zone=PARIS.key,
        retry=RetryPolicy(attempts=1),
        sync_collection=sync_collection,
        outbound=OutboundPolicy.trusting([radicale.url]),
    )


@pytest.fixture
def provider(radicale: RadicaleServer, calendar_name: str) -> Iterator[CalDAVCalendar]:
    provider = connected(radicale, calendar_name)
    yield provider
    provider.close()


@pytest.fixture
def other_app(radicale: RadicaleServer, calendar_name: str) -> Iterator[caldav.Calendar]:
    with radicale.client("manager") as client:
        yield client.principal().calendar(name=calendar_name)


def new_spec() -> SeriesSpec:
    """A series of its own (a fresh id) between the manager and the rep."""
    return SeriesSpec(
        series_id=f"s-{uuid4().hex[:8]}",
        organization_id="org-1",
        organiser_email=MANAGER,
        attendee_email=REP,
        title="1:1 Manager / Rep",
        slot=SLOT,
        first_day=FIRST_DAY,
        agenda=AGENDA,
    )


@pytest.fixture
def spec() -> SeriesSpec:
    return new_spec()


@pytest.fixture
def booked(provider: CalDAVCalendar, spec: SeriesSpec) -> SeriesRef:
    return provider.create_series(spec)


# ---------------------------------------------------------------- what another app sees


def stored(other_app: caldav.Calendar) -> icalendar.Calendar:
    """The one object in the calendar, as another app reads it."""
    (event,) = other_app.get_events()
    return icalendar.Calendar.from_ical(event.data)


def master_of(ical: icalendar.Calendar) -> icalendar.Event:
    (series,) = [event for event in ical.events if "RECURRENCE-ID" not in event]
    return series


def override_of(ical: icalendar.Calendar, original: datetime) -> icalendar.Event:
    (override,) = [
        event
        for event in ical.events
        if "RECURRENCE-ID" in event and event["RECURRENCE-ID"].dt == original
    ]
    return override


def edit_in_other_app(
    other_app: caldav.Calendar, edit: Callable[[icalendar.Calendar], None]
) -> None:
    """Read the series, ``edit`` it, write it back, as a calendar app does."""
    (event,) = other_app.get_events()
    ical = icalendar.Calendar.from_ical(event.data)
    edit(ical)
    event.save(raw_data=ical.to_ical())


def busy_starts(provider: CalDAVCalendar, weeks: int = 6) -> list[datetime]:
    window = Interval(week(0) - timedelta(days=1), week(weeks))
    return [busy.start for busy in provider.free_busy([MANAGER], window)[MANAGER].busy]


# ---------------------------------------------------------------- the series


def test_the_adapter_is_a_calendar_provider(provider: CalDAVCalendar) -> None:
    assert isinstance(provider, CalendarProvider)


def test_a_series_is_one_weekly_vevent_in_the_organisers_zone(
    booked: SeriesRef, spec: SeriesSpec, other_app: caldav.Calendar
) -> None:
    ical = stored(other_app)
    series = master_of(ical)
    assert booked.provider_event_id == str(series["UID"]) == f"cadence-series-{spec.series_id}"
    assert series["RRULE"]["FREQ"] == ["WEEKLY"]
    assert series["RRULE"]["BYDAY"] == ["MO"]
    assert series.start == datetime(2027, 3, 1, 9, tzinfo=PARIS)
    assert series["DTSTART"].params["TZID"] == "Europe/Paris"
    assert series.end - series.start == timedelta(minutes=30)
    assert [timezone["TZID"] for timezone in ical.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(series["ORGANIZER"]) == f"mailto:{MANAGER}"
    attendee = series["ATTENDEE"]
    assert str(attendee) == f"mailto:{REP}"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["RSVP"] == "TRUE"
    assert str(series["DESCRIPTION"]) == AGENDA.text
    assert str(series["ATTACH"]) == AGENDA.url
    assert str(series["X-CADENCE-SERIES"]) == spec.series_id
    assert str(series["X-CADENCE-ORGANIZATION"]) == "org-1"


def test_booking_twice_keeps_one_series(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    again = provider.create_series(spec)
    assert again == booked
    assert len(other_app.get_events()) == 1


def test_booking_again_does_not_undo_changes(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    provider.cancel_occurrence(booked, spec, week(1))
    provider.create_series(spec)  # a retried job
    assert master_of(stored(other_app)).exdates == [week(1).astimezone(PARIS)]


def test_the_slot_stays_at_nine_in_paris_across_dst(
    provider: CalDAVCalendar, booked: SeriesRef
) -> None:
    starts = busy_starts(provider)
    assert [start.astimezone(PARIS).time() for start in starts] == [time(9)] * 6
    assert starts[3].hour == 8 and starts[4].hour == 7  # UTC: before and after 2027-03-28


def test_until_in_the_spec_ends_the_series_on_that_day(
    provider: CalDAVCalendar, spec: SeriesSpec
) -> None:
    provider.create_series(dataclasses.replace(spec, until=FIRST_DAY + timedelta(weeks=2)))
    assert busy_starts(provider) == [week(0), week(1), week(2)]


def test_cancel_occurrence_excludes_that_week(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    provider.cancel_occurrence(booked, spec, week(1))
    provider.cancel_occurrence(booked, spec, week(1))  # twice is once
    assert master_of(stored(other_app)).exdates == [week(1).astimezone(PARIS)]
    assert week(1) not in busy_starts(provider)
    assert week(2) in busy_starts(provider)


def test_move_occurrence_overrides_only_that_week(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    moved_to = week(2) + timedelta(days=1, hours=5)
    provider.move_occurrence(booked, spec, week(2), moved_to)
    override = override_of(stored(other_app), week(2))
    assert override.start == moved_to
    assert override["DTSTART"].params["TZID"] == "Europe/Paris"
    assert override.end - override.start == SLOT.duration
    assert str(override["ATTENDEE"]) == f"mailto:{REP}"
    starts = busy_starts(provider)
    assert moved_to in starts and week(2) not in starts
    assert week(1) in starts and week(3) in starts


def test_update_occurrence_agenda_keeps_a_moved_time(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    moved_to = week(2) + timedelta(hours=3)
    provider.move_occurrence(booked, spec, week(2), moved_to)
    carried = dataclasses.replace(AGENDA, text="Open: send the Acme quote", url="https://x/2")
    provider.update_occurrence_agenda(booked, spec, week(2), carried)
    provider.update_occurrence_agenda(booked, spec, week(3), carried)
    ical = stored(other_app)
    for original, start in ((week(2), moved_to), (week(3), week(3))):
        override = override_of(ical, original)
        assert override.start == start
        assert str(override["DESCRIPTION"]) == carried.text
        assert str(override["ATTACH"]) == carried.url
    assert str(master_of(ical)["DESCRIPTION"]) == AGENDA.text


def test_end_series_keeps_the_weeks_before_that_day(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    provider.move_occurrence(booked, spec, week(4), week(4) + timedelta(hours=1))
    provider.end_series(booked, spec, FIRST_DAY + timedelta(weeks=2))
    ical = stored(other_app)
    assert master_of(ical)["RRULE"]["UNTIL"] == [datetime(2027, 3, 14, 22, 59, 59, tzinfo=UTC)]
    assert not [event for event in ical.events if "RECURRENCE-ID" in event]
    assert busy_starts(provider) == [week(0), week(1)]


def test_end_series_before_its_first_week_deletes_it(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    provider.end_series(booked, spec, FIRST_DAY)
    assert other_app.get_events() == []
    with pytest.raises(NotFound):
        provider.cancel_occurrence(booked, spec, week(1))


def test_edits_keep_what_another_app_added(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    edit_in_other_app(other_app, lambda ical: master_of(ical).add("location", "Room 4"))
    provider.cancel_occurrence(booked, spec, week(1))
    provider.move_occurrence(booked, spec, week(2), week(2) + timedelta(hours=1))
    ical = stored(other_app)
    assert str(master_of(ical)["LOCATION"]) == "Room 4"
    assert str(override_of(ical, week(2))["LOCATION"]) == "Room 4"


def test_an_edit_racing_another_app_is_read_again_not_lost(
    provider: CalDAVCalendar,
    spec: SeriesSpec,
    booked: SeriesRef,
    other_app: caldav.Calendar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_cancel = series_ical.cancel_occurrence
    attempts = []

    def cancel_while_another_app_saves(ical: icalendar.Calendar, *args: Any) -> None:
        attempts.append(ical)
        if len(attempts) == 1:  # between Cadence's read and its write
            edit_in_other_app(other_app, lambda theirs: master_of(theirs).add("location", "Rm 4"))
        real_cancel(ical, *args)

    monkeypatch.setattr(series_ical, "cancel_occurrence", cancel_while_another_app_saves)
    provider.cancel_occurrence(booked, spec, week(1))

    assert len(attempts) == 2
    series = master_of(stored(other_app))
    assert str(series["LOCATION"]) == "Rm 4"
    assert series.exdates == [week(1).astimezone(PARIS)]


# ---------------------------------------------------------------- free/busy


def add_vevent(other_app: caldav.Calendar, *lines: str) -> None:
    """An event of the manager's own, made in another app from its iCalendar ``lines``."""
    other_app.add_event(
        "\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Other app//EN",
                "BEGIN:VEVENT",
                f"UID:{uuid4()}",
                "DTSTAMP:20260101T000000Z",
                *lines,
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        )
    )


def add_event(other_app: caldav.Calendar, summary: str, start: datetime, *lines: str) -> None:
    """An hour-long event of the manager's own, made in another app (UTC times)."""
    stamp = "%Y%m%dT%H%M%SZ"
    add_vevent(
        other_app,
        f"DTSTART:{start.strftime(stamp)}",
        f"DTEND:{(start + timedelta(hours=1)).strftime(stamp)}",
        f"SUMMARY:{summary}",
        *lines,
    )


def test_free_busy_counts_only_what_blocks_time(
    provider: CalDAVCalendar, other_app: caldav.Calendar
) -> None:
    day = datetime(2027, 3, 2, 8, tzinfo=UTC)
    add_event(other_app, "Pipeline review", day)
    add_event(other_app, "Focus time (free)", day + timedelta(hours=1), "TRANSP:TRANSPARENT")
    add_event(
        other_app,
        "Vendor pitch",
        day + timedelta(hours=2),
        "ORGANIZER:mailto:vendor@example.org",
        f"ATTENDEE;PARTSTAT=DECLINED:mailto:{MANAGER.upper()}",
    )
    add_event(other_app, "Called off", day + timedelta(hours=3), "STATUS:CANCELLED")
    add_event(
        other_app,
        "Maybe lunch",
        day + timedelta(hours=4),
        "ORGANIZER:mailto:friend@example.org",
        f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:{MANAGER}",
    )
    add_event(other_app, "Dentist", day + timedelta(hours=5), "CATEGORIES:Personal,Out of office")
    add_vevent(
        other_app, "DTSTART;VALUE=DATE:20270304", "DTEND;VALUE=DATE:20270305", "SUMMARY:Vacation"
    )
    window = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))

    found = provider.free_busy([MANAGER, REP], window)

    assert [(busy.start, busy.end, busy.kind) for busy in found[MANAGER].busy] == [
        (day, day + timedelta(hours=1), BusyKind.BUSY),
        (day + timedelta(hours=4), day + timedelta(hours=5), BusyKind.TENTATIVE),
        (day + timedelta(hours=5), day + timedelta(hours=6), BusyKind.OUT_OF_OFFICE),
        (
            datetime(2027, 3, 4, tzinfo=PARIS),
            datetime(2027, 3, 5, tzinfo=PARIS),
            BusyKind.OUT_OF_OFFICE,
        ),
    ]
    assert found[MANAGER].unknown == ()
    assert found[REP].busy == ()
    assert found[REP].unknown == (window,)


def test_free_busy_clips_to_the_window(provider: CalDAVCalendar, booked: SeriesRef) -> None:
    window = Interval(week(1) + timedelta(minutes=10), week(1) + timedelta(hours=1))
    (busy,) = provider.free_busy([MANAGER], window)[MANAGER].busy
    assert (busy.start, busy.end) == (window.start, week(1) + SLOT.duration)


# ---------------------------------------------------------------- changes


def add_override(ical: icalendar.Calendar, original: datetime) -> icalendar.Event:
    """An override of one occurrence, copied from the series as calendar apps make them."""
    override = icalendar.Event.from_ical(master_of(ical).to_ical())
    for name in ("RRULE", "EXDATE", "DTSTART", "DTEND"):
        override.pop(name, None)
    override.add("recurrence-id", original.astimezone(PARIS))
    override.add("dtstart", original.astimezone(PARIS))
    override.add("dtend", (original + SLOT.duration).astimezone(PARIS))
    ical.add_component(override)
    return override


def decline(event: icalendar.Event) -> None:
    event["ATTENDEE"].params["PARTSTAT"] = "DECLINED"


def move(original: datetime, to: datetime) -> Callable[[icalendar.Calendar], None]:
    def edit(ical: icalendar.Calendar) -> None:
        override = add_override(ical, original)
        for name in ("DTSTART", "DTEND"):
            override.pop(name)
        override.add("dtstart", to.astimezone(PARIS))
        override.add("dtend", (to + SLOT.duration).astimezone(PARIS))

    return edit


def cancel_week_two(ical: icalendar.Calendar) -> None:
    add_override(ical, week(2))["STATUS"] = "CANCELLED"


def edit_agenda(ical: icalendar.Calendar) -> None:
    master_of(ical)["DESCRIPTION"] = "Talk about golf"


def shorten(ical: icalendar.Calendar) -> None:
    master_of(ical)["RRULE"]["UNTIL"] = [UNTIL]


MOVED_TO = week(2) + timedelta(days=2, hours=6)
UNTIL = datetime(2027, 4, 30, 21, 59, 59, tzinfo=UTC)  # the end of April 30 in Paris

# Each edit another app makes, and the one change Cadence must hear about.
EDITS: dict[str, tuple[Callable[[icalendar.Calendar], None], dict[str, Any]]] = {
    "exdate": (
        lambda ical: master_of(ical).add("exdate", week(1).astimezone(PARIS)),
        {"kind": ChangeKind.OCCURRENCE_CANCELLED, "original_start": week(1)},
    ),
    "cancelled override": (
        cancel_week_two,
        {"kind": ChangeKind.OCCURRENCE_CANCELLED, "original_start": week(2)},
    ),
    "moved": (
        move(week(2), MOVED_TO),
        {
            "kind": ChangeKind.OCCURRENCE_MOVED,
            "original_start": week(2),
            "new_start": MOVED_TO,
            "new_end": MOVED_TO + SLOT.duration,
        },
    ),
    "declined the series": (
        lambda ical: decline(master_of(ical)),
        {
            "kind": ChangeKind.ATTENDEE_RESPONDED,
            "response": Response.DECLINED,
            "attendee_email": REP,
        },
    ),
    "declined one week": (
        lambda ical: decline(add_override(ical, week(3))),
        {
            "kind": ChangeKind.ATTENDEE_RESPONDED,
            "original_start": week(3),
            "response": Response.DECLINED,
            "attendee_email": REP,
        },
    ),
    "agenda edited": (
        edit_agenda,
        {"kind": ChangeKind.AGENDA_EDITED, "description": "Talk about golf"},
    ),
    "shortened": (
        shorten,
        {"kind": ChangeKind.SERIES_SHORTENED, "until": date(2027, 4, 30)},
    ),
}


def expected(spec: SeriesSpec, booked: SeriesRef, **details: Any) -> CalendarChange:
    return CalendarChange(
        series_id=spec.series_id, provider_event_id=booked.provider_event_id, **details
    )


def test_a_fresh_series_has_no_changes(provider: CalDAVCalendar, booked: SeriesRef) -> None:
    first = provider.changes(None)
    assert first.changes == ()
    assert first.full_sync
    after = provider.changes(first.cursor)
    assert (after.changes, after.full_sync) == ((), False)


@pytest.mark.parametrize("edit_name", sorted(EDITS))
def test_an_edit_in_another_app_is_reported_once(
    edit_name: str,
    provider: CalDAVCalendar,
    spec: SeriesSpec,
    booked: SeriesRef,
    other_app: caldav.Calendar,
) -> None:
    edit, change = EDITS[edit_name]
    cursor = provider.changes(None).cursor
    edit_in_other_app(other_app, edit)

    reported = provider.changes(cursor)
    assert reported.changes == (expected(spec, booked, **change),)
    assert not reported.full_sync
    assert provider.changes(reported.cursor).changes == ()


def test_cancel_move_and_delete_in_another_app_each_reported_once(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    cursor = provider.changes(None).cursor
    edit_in_other_app(other_app, EDITS["exdate"][0])
    edit_in_other_app(other_app, EDITS["moved"][0])
    reported = provider.changes(cursor)
    assert reported.changes == (
        expected(spec, booked, **EDITS["exdate"][1]),
        expected(spec, booked, **EDITS["moved"][1]),
    )
    (event,) = other_app.get_events()
    event.delete()
    deleted = provider.changes(reported.cursor)
    assert deleted.changes == (expected(spec, booked, kind=ChangeKind.SERIES_DELETED),)
    assert provider.changes(deleted.cursor).changes == ()


def test_cadence_s_own_agenda_update_is_not_an_edit(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef
) -> None:
    cursor = provider.changes(None).cursor
    provider.update_occurrence_agenda(
        booked, spec, week(1), dataclasses.replace(AGENDA, text="New")
    )
    assert provider.changes(cursor).changes == ()


def test_an_expired_sync_token_reads_everything_and_still_reports_exactly(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef, other_app: caldav.Calendar
) -> None:
    seen = SyncCursor.decode(provider.changes(None).cursor)
    assert seen is not None and seen.sync_token
    expired = dataclasses.replace(seen, sync_token="http://radicale.org/ns/sync/" + "0" * 64)
    edit_in_other_app(other_app, EDITS["exdate"][0])

    reported = provider.changes(expired.encode())

    assert reported.full_sync
    assert reported.changes == (expected(spec, booked, **EDITS["exdate"][1]),)
    resumed = SyncCursor.decode(reported.cursor)
    assert resumed is not None and resumed.etags is None  # still syncing by token
    assert resumed.sync_token not in (None, expired.sync_token)
    assert provider.changes(reported.cursor).changes == ()


def test_without_a_usable_cursor_changes_are_derived_from_the_calendar(
    provider: CalDAVCalendar, spec: SeriesSpec, booked: SeriesRef
) -> None:
    provider.cancel_occurrence(booked, spec, week(1))
    reported = provider.changes("a cursor from some other adapter")
    assert reported.full_sync
    assert reported.changes == (expected(spec, booked, **EDITS["exdate"][1]),)


def test_changes_by_etags_when_sync_collection_is_off(
    radicale: RadicaleServer,
    calendar_name: str,
    spec: SeriesSpec,
    booked: SeriesRef,
    other_app: caldav.Calendar,
) -> None:
    provider = connected(radicale, calendar_name, sync_collection=False)
    first = provider.changes(None)
    assert (first.changes, first.full_sync) == ((), True)
    edit_in_other_app(other_app, EDITS["moved"][0])
    add_event(other_app, "Not a 1:1", week(1) + timedelta(hours=2))

    moved = provider.changes(first.cursor)
    assert (moved.changes, moved.full_sync) == (
        (expected(spec, booked, **EDITS["moved"][1]),),
        False,
    )
    (series,) = [event for event in other_app.get_events() if "cadence" in str(event.url)]
    series.delete()
    deleted = provider.changes(moved.cursor)
    assert deleted.changes == (expected(spec, booked, kind=ChangeKind.SERIES_DELETED),)
    assert provider.changes(deleted.cursor).changes == ()
    provider.close()
