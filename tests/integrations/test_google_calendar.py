"""GoogleCalendar through the real Google client libraries against the local emulator."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime

import pytest

from integrations.base import (
    AccountZone,
    AccountZoneReader,
    AgendaDocument,
    CalendarProvider,
    ChangeKind,
    NotFound,
    OutOfOfficeReader,
    ProviderError,
    RateLimited,
    ReconnectRequired,
    Response,
    SeriesSpec,
    Transient,
)
from integrations.google import GoogleCalendar
from integrations.google.auth import SCOPES
from integrations.google.events import TAG_AGENDA_HASH, TAG_SERIES, event_id, instance_id
from integrations.google.provider import SeriesDeleted
from integrations.retry import RetryPolicy
from scheduler.intervals import BusyKind, Interval
from scheduler.recurrence import WeeklySlot
from tests.emulators.google import GoogleEmulator
from tests.fakes import MemoryTokenStore

MANAGER = "pat@acme.test"
REPS = [f"rep{n}@acme.test" for n in range(1, 9)]
NEW_YORK = "America/New_York"
# Mondays 9:00 New York; US DST starts on Sunday 2026-03-08, between the 1st and 2nd week.
FIRST_MONDAY = date(2026, 3, 2)
WEEK1 = datetime(2026, 3, 2, 14, tzinfo=UTC)  # 9:00 EST
WEEK2 = datetime(2026, 3, 9, 13, tzinfo=UTC)  # 9:00 EDT
WEEK3 = datetime(2026, 3, 16, 13, tzinfo=UTC)
MARCH = Interval(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
AGENDA = AgendaDocument(
    title="Weekly 1:1 agenda",
    text="1. Status update\n2. Coaching\n3. Customer's voice",
    html="<ol><li>Status update</li></ol>",
    url="https://cadence.test/agenda/s1?sig=abc",
)


@pytest.fixture
def emulator(ca):
    people = {MANAGER: "Pat Manager"} | {rep: f"Rep {rep[3]}" for rep in REPS}
    with GoogleEmulator(people, ca=ca, hang_seconds=1.0) as emu:
        yield emu


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def tokens(emulator):
    return MemoryTokenStore(blob_for(emulator, MANAGER))


@pytest.fixture
def calendar(emulator, tokens, sleeps):
    return GoogleCalendar(emulator.settings(), tokens, retry=fast_retry(sleeps), timeout=10)


def blob_for(emulator: GoogleEmulator, email: str) -> bytes:
    issued = emulator.issue_tokens(email, SCOPES)
    expiry = datetime.now(UTC) + timedelta(seconds=issued["expires_in"])
    return json.dumps(
        {
            "email": email,
            "token": issued["access_token"],
            "refresh_token": issued["refresh_token"],
            "expiry": expiry.isoformat(),
            "scopes": list(SCOPES),
        }
    ).encode()


def fast_retry(sleeps: list[float], attempts: int = 6) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=30, sleep=sleeps.append)


def spec_for(rep: str, series_id: str | None = None, **changes) -> SeriesSpec:
    values = {
        "series_id": series_id or f"series-{rep.split('@')[0]}",
        "organization_id": "org-1",
        "organiser_email": MANAGER,
        "attendee_email": rep,
        "title": "Pat / Rep weekly 1:1",
        "slot": WeeklySlot(0, time(9), timedelta(minutes=30), NEW_YORK),
        "first_day": FIRST_MONDAY,
        "agenda": AGENDA,
    }
    return SeriesSpec(**(values | changes))


def masters(emulator: GoogleEmulator, email: str = MANAGER) -> list[dict]:
    return [
        e
        for e in emulator.events(email)
        if "recurrence" in e and not e.get("recurringEventId") and e["status"] != "cancelled"
    ]


# ---------------------------------------------------------------------- economy and booking


def test_implements_the_provider_interface(calendar):
    assert isinstance(calendar, CalendarProvider)


def test_one_freebusy_call_for_a_manager_and_eight_reps_then_one_insert_per_series(
    emulator, calendar
):
    emulator.add_busy(REPS[0], WEEK1, WEEK1 + timedelta(hours=1), summary="Demo")

    availability = calendar.free_busy([MANAGER, *REPS], MARCH)

    assert emulator.calls == {"freebusy.query": 1}
    assert [b.interval for b in availability[REPS[0]].busy] == [
        Interval(WEEK1, WEEK1 + timedelta(hours=1))
    ]
    assert all(not availability[rep].unknown for rep in REPS)

    refs = [calendar.create_series(spec_for(rep)) for rep in REPS]

    assert emulator.calls == {"freebusy.query": 1, "events.insert": 8}
    assert [ref.provider_event_id for ref in refs] == [
        event_id(spec_for(rep).series_id) for rep in REPS
    ]
    assert len(masters(emulator)) == 8


def test_the_reps_free_busy_sees_the_series_at_nine_local_across_dst(emulator, calendar):
    calendar.create_series(spec_for(REPS[1]))

    busy = calendar.free_busy([REPS[1]], MARCH)[REPS[1]].busy

    assert [b.start for b in busy][:3] == [WEEK1, WEEK2, WEEK3]
    assert all(b.end - b.start == timedelta(minutes=30) for b in busy)


def test_unknown_calendars_come_back_unknown_never_free(emulator, calendar):
    availability = calendar.free_busy([REPS[0], "stranger@elsewhere.test"], MARCH)

    assert availability["stranger@elsewhere.test"].unknown == (MARCH,)
    assert availability["stranger@elsewhere.test"].busy == ()
    assert availability[REPS[0]].unknown == ()


def test_out_of_office_is_told_apart_from_other_busy_time(emulator, calendar):
    emulator.add_busy(
        MANAGER,
        WEEK2 - timedelta(days=1),
        WEEK2 + timedelta(days=2),
        summary="Vacation",
        out_of_office=True,
    )
    emulator.add_busy(MANAGER, WEEK1, WEEK1 + timedelta(hours=1), summary="Pipeline review")
    emulator.add_busy(
        MANAGER,
        datetime(2026, 5, 4, tzinfo=UTC),
        datetime(2026, 5, 6, tzinfo=UTC),
        summary="Later",
        out_of_office=True,
    )
    assert isinstance(calendar, OutOfOfficeReader)
    emulator.reset_calls()

    away = calendar.out_of_office(MARCH)

    assert away.email == MANAGER
    assert [(b.start, b.end, b.kind, b.label) for b in away.busy] == [
        (WEEK2 - timedelta(days=1), WEEK2 + timedelta(days=2), BusyKind.OUT_OF_OFFICE, "Vacation")
    ]
    assert emulator.calls == {"events.list": 1}


def test_the_account_zone_is_the_primary_calendars_zone(emulator, calendar, tokens):
    emulator.set_zone(MANAGER, NEW_YORK)
    emulator.reset_calls()

    assert isinstance(calendar, AccountZoneReader)
    assert calendar.account_zone() == AccountZone(NEW_YORK)
    # One events.list, the scopes Cadence holds: no Settings API, no extra consent.
    assert emulator.calls == {"events.list": 1}
    emulator.set_zone(MANAGER, "Mars/Olympus_Mons")
    assert calendar.account_zone() is None  # a zone no tz database knows is not guessed


def test_free_busy_splits_by_fifty_calendars_and_ninety_days(emulator, calendar):
    people = REPS + [f"guest{n}@elsewhere.test" for n in range(112)]  # 120 people
    window = Interval(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 20, tzinfo=UTC))  # 200d

    availability = calendar.free_busy(people, window)

    assert emulator.calls == {"freebusy.query": 3 * 3}
    spans = availability["guest0@elsewhere.test"].unknown
    assert spans[0].start == window.start and spans[-1].end == window.end
    assert all(s.end - s.start <= timedelta(days=90) for s in spans)


def test_the_series_event_carries_rrule_zone_guest_agenda_tags_and_meet(emulator, calendar):
    spec = spec_for(REPS[0], until=date(2026, 6, 1), video_meeting=True)

    ref = calendar.create_series(spec)

    event = emulator.event(MANAGER, ref.provider_event_id)
    assert event["recurrence"] == ["RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260602T035959Z"]
    assert event["start"] == {"dateTime": "2026-03-02T09:00:00-05:00", "timeZone": NEW_YORK}
    assert event["end"]["dateTime"] == "2026-03-02T09:30:00-05:00"
    assert [a["email"] for a in event["attendees"]] == [REPS[0]]
    assert AGENDA.text in event["description"] and AGENDA.url in event["description"]
    assert event["attachments"][0]["fileUrl"] == AGENDA.url  # kept: supportsAttachments=true
    assert event["extendedProperties"]["private"][TAG_SERIES] == spec.series_id
    assert event["hangoutLink"].startswith("https://meet.google.com/")
    assert ref.extra["meet_url"] == event["hangoutLink"]
    assert ("insert", ref.provider_event_id, "all") in emulator.sent_updates
    # The rep's copy exists but without Cadence's private properties.
    copy = emulator.event(REPS[0], ref.provider_event_id)
    assert copy["status"] == "confirmed" and "extendedProperties" not in copy


def test_booking_twice_adopts_the_existing_series(emulator, calendar):
    first = calendar.create_series(spec_for(REPS[0]))
    second = calendar.create_series(spec_for(REPS[0]))

    assert first == second
    assert len(masters(emulator)) == 1
    assert emulator.calls == {"events.insert": 2, "events.get": 1}


def test_an_insert_whose_answer_is_lost_is_adopted_on_retry(emulator, calendar):
    emulator.fail_next(1, 500, after_commit=True, method="events.insert")

    ref = calendar.create_series(spec_for(REPS[0]))

    assert ref.provider_event_id == event_id(spec_for(REPS[0]).series_id)
    assert len(masters(emulator)) == 1
    assert emulator.calls == {"events.insert": 2, "events.get": 1}


def test_a_foreign_event_with_the_same_id_is_not_adopted(emulator, calendar):
    spec = spec_for(REPS[0])
    calendar.create_series(spec)
    other = spec_for(REPS[0], organization_id="org-2")
    emulator.edit_event(
        MANAGER, event_id(spec.series_id), extendedProperties={"private": {TAG_SERIES: "x"}}
    )

    with pytest.raises(ProviderError, match="belongs to another event"):
        calendar.create_series(other)


def test_booking_through_thirty_percent_failures_yields_exactly_one_series_each(
    emulator, tokens, sleeps
):
    emulator.fail_randomly(0.3, seed=7, statuses=(429, 403, 500, 503))
    calendar = GoogleCalendar(emulator.settings(), tokens, retry=fast_retry(sleeps, attempts=12))

    refs = [calendar.create_series(spec_for(rep)) for rep in REPS]

    assert len({r.provider_event_id for r in refs}) == 8
    ours = masters(emulator)
    assert sorted(e["id"] for e in ours) == sorted(r.provider_event_id for r in refs)
    for rep in REPS:  # and one invitation copy per rep
        assert len(masters(emulator, rep)) == 1
    assert len(sleeps) > 0  # failures were really injected and retried
    assert emulator.calls["events.insert"] > 8
    assert emulator.calls["events.get"] > 0  # some inserts committed before failing: adopted


# ---------------------------------------------------------------------- errors


def test_retry_after_is_honoured_for_429(emulator, calendar, sleeps):
    emulator.retry_after = 7
    emulator.fail_next(2, 429)

    calendar.free_busy([REPS[0]], MARCH)

    assert sleeps == [7.0, 7.0]
    assert emulator.calls == {"freebusy.query": 3}


def test_retry_after_on_a_503_wins_over_the_backoff(emulator, calendar, sleeps):
    emulator.retry_after = 4
    emulator.fail_next(2, 503)

    calendar.free_busy([REPS[0]], MARCH)

    assert sleeps == [4.0, 4.0]  # not the policy's millisecond backoff
    assert emulator.calls == {"freebusy.query": 3}


def test_retry_after_as_an_http_date_is_honoured(emulator, calendar, sleeps):
    emulator.retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    emulator.fail_next(1, 503)

    calendar.free_busy([REPS[0]], MARCH)

    [waited] = sleeps
    assert 15 <= waited <= 20


def test_403_rate_limit_is_retried_then_raised_as_rate_limited(emulator, calendar, sleeps):
    emulator.fail_next(6, 403)

    with pytest.raises(RateLimited):
        calendar.free_busy([REPS[0]], MARCH)
    assert len(sleeps) == 5


def test_server_errors_and_timeouts_are_transient(emulator, tokens, sleeps):
    calendar = GoogleCalendar(
        emulator.settings(), tokens, retry=fast_retry(sleeps, attempts=2), timeout=0.3
    )
    emulator.fail_next(2, 500)
    with pytest.raises(Transient):
        calendar.free_busy([REPS[0]], MARCH)

    emulator.fail_next(2, "timeout")
    with pytest.raises(Transient):
        calendar.free_busy([REPS[0]], MARCH)
    assert emulator.calls == {"freebusy.query": 4}


def test_a_missing_series_is_not_found_for_a_move(emulator, calendar):
    ref = calendar.create_series(spec_for(REPS[0]))
    emulator.delete_event(MANAGER, ref.provider_event_id)

    with pytest.raises(NotFound):
        calendar.move_occurrence(ref, spec_for(REPS[0]), WEEK2, WEEK2 + timedelta(hours=2))


def test_a_refreshed_access_token_is_saved_back_keeping_the_refresh_token(
    emulator, calendar, tokens
):
    before = json.loads(tokens.blob)
    emulator.expire_access_tokens()

    calendar.free_busy([REPS[0]], MARCH)

    after = json.loads(tokens.blob)
    assert tokens.saves == 1
    assert after["token"] != before["token"]
    assert after["refresh_token"] == before["refresh_token"]
    assert emulator.calls["oauth.token"] == 1


def test_a_token_revoked_mid_sync_raises_reconnect_required(emulator, calendar):
    for rep in REPS[:3]:
        calendar.create_series(spec_for(rep))
    emulator.max_page_size = 1

    def revoke_after_first_page(method: str) -> None:
        if method == "events.list":
            emulator.revoke(MANAGER)

    emulator.after_call = revoke_after_first_page

    with pytest.raises(ReconnectRequired):
        calendar.changes(None)
    assert emulator.calls["events.list"] == 2  # the second page was refused
    assert emulator.calls["oauth.token"] == 1  # one refresh attempt: invalid_grant


def test_without_a_stored_connection_reconnect_is_required(emulator):
    with pytest.raises(ReconnectRequired):
        GoogleCalendar(emulator.settings(), MemoryTokenStore(None))


# ---------------------------------------------------------------------- occurrences


def test_move_cancel_and_reagenda_single_occurrences(emulator, calendar):
    spec = spec_for(REPS[0])
    ref = calendar.create_series(spec)
    new_agenda = AgendaDocument(
        "Agenda", "Open items: call ACME", "<p/>", "https://cadence.test/a2"
    )

    calendar.move_occurrence(ref, spec, WEEK2, WEEK2 + timedelta(days=1))
    calendar.cancel_occurrence(ref, spec, WEEK3)
    calendar.cancel_occurrence(ref, spec, WEEK3)  # again: already done, no error
    calendar.update_occurrence_agenda(ref, spec, WEEK1, new_agenda)

    moved = emulator.event(MANAGER, instance_id(ref.provider_event_id, WEEK2))
    assert moved["start"] == {"dateTime": "2026-03-10T09:00:00-04:00", "timeZone": NEW_YORK}
    assert moved["extendedProperties"]["private"][TAG_SERIES] == spec.series_id
    assert emulator.event(MANAGER, instance_id(ref.provider_event_id, WEEK3))["status"] == (
        "cancelled"
    )
    first = emulator.event(MANAGER, instance_id(ref.provider_event_id, WEEK1))
    assert "Open items: call ACME" in first["description"]
    assert first["attachments"][0]["fileUrl"] == "https://cadence.test/a2"
    # The rep's calendar follows: week 3 is free, week 2 moved to Tuesday.
    busy = [b.start for b in calendar.free_busy([REPS[0]], MARCH)[REPS[0]].busy]
    assert WEEK2 + timedelta(days=1) in busy and WEEK2 not in busy and WEEK3 not in busy


def test_end_series_rewrites_until_or_deletes_when_nothing_remains(emulator, calendar):
    spec = spec_for(REPS[0])
    ref = calendar.create_series(spec)

    calendar.end_series(ref, spec, date(2026, 3, 16))

    event = emulator.event(MANAGER, ref.provider_event_id)
    assert event["recurrence"] == ["RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260316T035959Z"]
    assert [b.start for b in calendar.free_busy([REPS[0]], MARCH)[REPS[0]].busy] == [
        WEEK1,
        WEEK2,
    ]

    calendar.end_series(ref, spec, FIRST_MONDAY)
    assert emulator.event(MANAGER, ref.provider_event_id)["status"] == "cancelled"
    calendar.end_series(ref, spec, FIRST_MONDAY)  # gone already: done


# ---------------------------------------------------------------------- sync


def test_changes_report_each_kind_of_calendar_edit_once(emulator, calendar):
    spec = spec_for(REPS[0])
    ref = calendar.create_series(spec)
    gone = calendar.create_series(spec_for(REPS[1]))
    emulator.add_busy(MANAGER, WEEK1, WEEK1 + timedelta(hours=1), summary="not ours")
    start = calendar.changes(None)
    assert start.full_sync and start.changes == ()

    eid = ref.provider_event_id
    emulator.respond(REPS[0], MANAGER, eid, "declined", original_start=WEEK1)
    emulator.cancel_occurrence(MANAGER, eid, WEEK2)
    emulator.move_occurrence(MANAGER, eid, WEEK3, WEEK3 + timedelta(hours=3))
    emulator.edit_event(MANAGER, eid, description="hand-written agenda")
    emulator.edit_event(MANAGER, eid, recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260401"])
    emulator.delete_event(MANAGER, gone.provider_event_id)

    changed = calendar.changes(start.cursor)

    assert not changed.full_sync
    got = {(c.kind, c.original_start) for c in changed.changes}
    assert got == {
        (ChangeKind.ATTENDEE_RESPONDED, WEEK1),
        (ChangeKind.OCCURRENCE_CANCELLED, WEEK2),
        (ChangeKind.OCCURRENCE_MOVED, WEEK3),
        (ChangeKind.AGENDA_EDITED, None),
        (ChangeKind.SERIES_SHORTENED, None),
        (ChangeKind.SERIES_DELETED, None),
    }
    assert len(changed.changes) == len(got)
    by_kind = {c.kind: c for c in changed.changes}
    assert by_kind[ChangeKind.ATTENDEE_RESPONDED].response is Response.DECLINED
    assert by_kind[ChangeKind.ATTENDEE_RESPONDED].attendee_email == REPS[0]
    assert by_kind[ChangeKind.OCCURRENCE_MOVED].new_start == WEEK3 + timedelta(hours=3)
    assert by_kind[ChangeKind.AGENDA_EDITED].description == "hand-written agenda"
    assert by_kind[ChangeKind.SERIES_SHORTENED].until == date(2026, 4, 1)
    assert by_kind[ChangeKind.SERIES_DELETED].series_id == spec_for(REPS[1]).series_id
    assert all(c.series_id == spec.series_id for c in changed.changes if c.provider_event_id == eid)

    assert calendar.changes(changed.cursor).changes == ()


def test_cadences_own_agenda_update_is_not_reported_as_a_hand_edit(emulator, calendar):
    spec = spec_for(REPS[0])
    ref = calendar.create_series(spec)
    cursor = calendar.changes(None).cursor
    agenda = AgendaDocument("Agenda", "carried-over items", "<p/>", "https://cadence.test/a3")

    calendar.update_occurrence_agenda(ref, spec, WEEK2, agenda)

    occurrence = emulator.event(MANAGER, instance_id(ref.provider_event_id, WEEK2))
    assert occurrence["extendedProperties"]["private"][TAG_AGENDA_HASH]
    assert calendar.changes(cursor).changes == ()


def test_an_expired_sync_token_recovers_by_full_sync_without_duplicates(emulator, calendar):
    ref = calendar.create_series(spec_for(REPS[0]))
    emulator.respond(REPS[0], MANAGER, ref.provider_event_id, "declined", original_start=WEEK1)
    cursor = calendar.changes(None).cursor
    emulator.cancel_occurrence(MANAGER, ref.provider_event_id, WEEK2)
    emulator.expire_sync_tokens(MANAGER)
    emulator.reset_calls()

    recovered = calendar.changes(cursor)

    assert recovered.full_sync
    assert emulator.calls == {"events.list": 2}  # the 410, then one full listing
    assert sorted((c.kind, c.original_start) for c in recovered.changes) == [
        (ChangeKind.ATTENDEE_RESPONDED, WEEK1),
        (ChangeKind.OCCURRENCE_CANCELLED, WEEK2),
    ]
    assert calendar.changes(recovered.cursor).changes == ()


def test_sync_pages_through_one_generator(emulator, calendar):
    refs = [calendar.create_series(spec_for(rep)) for rep in REPS[:5]]
    for ref in refs:
        emulator.cancel_occurrence(MANAGER, ref.provider_event_id, WEEK2)
    emulator.max_page_size = 2
    emulator.reset_calls()

    full = calendar.changes(None)

    assert emulator.calls == {"events.list": 5}  # 10 items, 2 per page
    assert len(full.changes) == 5
    assert {c.kind for c in full.changes} == {ChangeKind.OCCURRENCE_CANCELLED}


def test_ending_after_an_earlier_until_never_lengthens_the_series(emulator, calendar):
    spec = spec_for(REPS[0], until=date(2026, 3, 9))
    ref = calendar.create_series(spec)
    before = emulator.event(MANAGER, ref.provider_event_id)["recurrence"]

    calendar.end_series(ref, spec, date(2026, 6, 1))

    assert emulator.event(MANAGER, ref.provider_event_id)["recurrence"] == before


def test_booking_a_series_deleted_in_the_calendar_again_is_refused_clearly(emulator, calendar):
    spec = spec_for(REPS[0])
    ref = calendar.create_series(spec)
    emulator.delete_event(MANAGER, ref.provider_event_id)

    with pytest.raises(SeriesDeleted):
        calendar.create_series(spec)
    assert masters(emulator) == []


def test_a_grant_missing_the_free_busy_scope_asks_for_a_reconnect(emulator):
    issued = json.loads(blob_for(emulator, MANAGER))
    narrow = emulator.issue_tokens(MANAGER, ["https://www.googleapis.com/auth/calendar.events"])
    issued |= {"token": narrow["access_token"], "refresh_token": narrow["refresh_token"]}
    calendar = GoogleCalendar(emulator.settings(), MemoryTokenStore(json.dumps(issued).encode()))

    with pytest.raises(ReconnectRequired):
        calendar.free_busy([REPS[0]], MARCH)
    assert emulator.calls == {"freebusy.query": 1}


def test_an_insert_that_timed_out_after_committing_is_adopted(emulator, tokens, sleeps):
    calendar = GoogleCalendar(emulator.settings(), tokens, retry=fast_retry(sleeps), timeout=0.3)
    emulator.fail_next(1, "timeout", after_commit=True, method="events.insert")

    ref = calendar.create_series(spec_for(REPS[0]))

    assert [e["id"] for e in masters(emulator)] == [ref.provider_event_id]
    assert emulator.calls == {"events.insert": 2, "events.get": 1}


def test_an_untrusted_certificate_is_a_configuration_error_not_retried(emulator, tokens, sleeps):
    untrusted = replace(emulator.settings(), ca_bundle=None)  # the system store lacks our CA
    calendar = GoogleCalendar(untrusted, tokens, retry=fast_retry(sleeps))

    with pytest.raises(ProviderError, match="GOOGLE_CA_BUNDLE"):
        calendar.free_busy([REPS[0]], MARCH)
    assert sleeps == []
