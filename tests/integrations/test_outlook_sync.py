"""Changes made in Outlook flow back: calendarView delta mapped to Cadence's CalendarChanges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from integrations.base import CalendarChange, ChangeKind, Response, SeriesRef, SeriesSpec
from integrations.outlook import OutlookCalendar
from tests.emulators.graph import GraphEmulator
from tests.integrations.outlook_support import MANAGER, REPS, series_spec

pytest_plugins = ("tests.integrations.outlook_fixtures",)

FIRST = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # Monday 9:00 Los Angeles
WEEK = timedelta(weeks=1)


Synced = tuple[SeriesSpec, SeriesRef, str]


@pytest.fixture
def synced(calendar: OutlookCalendar, graph: GraphEmulator) -> Synced:
    """A booked series and the cursor of a first full sync."""
    spec = series_spec()
    ref = calendar.create_series(spec)
    first = calendar.changes(None)
    assert first.full_sync and first.changes == ()
    graph.reset_counts()
    return spec, ref, first.cursor


def kinds(changes: tuple[CalendarChange, ...]) -> list[tuple[ChangeKind, datetime | None]]:
    return [(c.kind, c.original_start) for c in changes]


def test_the_first_sync_pages_through_the_horizon_and_reads_the_series_once(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    calendar.create_series(series_spec())
    graph.reset_counts()
    result = calendar.changes(None)
    # 13-week horizon, ten items a page: the nextLink was followed to the deltaLink.
    assert graph.count("GET", "/me/calendarView/delta") == 2
    assert graph.count("POST", "/$batch") == 1  # the series master, to read Cadence's tag
    assert result.full_sync

    graph.reset_counts()
    again = calendar.changes(result.cursor)
    assert (again.changes, again.full_sync) == ((), False)
    assert graph.count() == 1  # one delta call; the master is remembered in the cursor


def test_a_first_sync_of_nine_series_keeps_each_batch_within_the_mailbox_limit(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    """Nine masters to read: Graph runs a batch's independent requests at once and answers
    the fifth for one mailbox 429 MailboxConcurrency, so they go 4 + 4 + 1."""
    for n in range(9):
        calendar.create_series(series_spec(REPS[n % len(REPS)], series_id=f"series-{n}"))
    graph.reset_counts()

    result = calendar.changes(None)

    assert result.full_sync
    in_batch = [c for c in graph.calls if c.in_batch]
    assert len(in_batch) == 9 and all(c.status == 200 for c in in_batch)  # none throttled
    assert graph.count("POST", "/$batch") == 3
    assert graph.max_in_flight[MANAGER] <= 4


def test_a_declined_occurrence(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, ref, cursor = synced
    graph.decline_occurrence(REPS[0], ref.provider_event_id, FIRST + WEEK)

    (change,) = calendar.changes(cursor).changes

    assert change == CalendarChange(
        ChangeKind.ATTENDEE_RESPONDED,
        "series-1",
        ref.provider_event_id,
        FIRST + WEEK,
        response=Response.DECLINED,
        attendee_email=REPS[0],
        changed_by=REPS[0],
    )


def test_an_occurrence_cancelled_in_outlook(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, ref, cursor = synced
    graph.cancel_occurrence(ref.provider_event_id, FIRST + 2 * WEEK)

    result = calendar.changes(cursor)

    assert kinds(result.changes) == [(ChangeKind.OCCURRENCE_CANCELLED, FIRST + 2 * WEEK)]
    assert result.changes[0].series_id == "series-1"


def test_an_occurrence_moved_in_outlook(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, ref, cursor = synced
    moved_to = FIRST + WEEK + timedelta(days=2, hours=1)
    graph.move_occurrence(ref.provider_event_id, FIRST + WEEK, moved_to)

    (change,) = calendar.changes(cursor).changes

    assert (change.kind, change.original_start) == (ChangeKind.OCCURRENCE_MOVED, FIRST + WEEK)
    assert (change.new_start, change.new_end) == (moved_to, moved_to + timedelta(minutes=30))


def test_a_deleted_series_is_one_change_not_thirteen(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, ref, cursor = synced
    graph.delete_series(ref.provider_event_id)

    result = calendar.changes(cursor)

    assert kinds(result.changes) == [(ChangeKind.SERIES_DELETED, None)]
    assert calendar.changes(result.cursor).changes == ()


def test_a_series_ended_by_cadence_reads_back_as_shortened(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    spec, ref, cursor = synced
    calendar.end_series(ref, spec, date(2027, 1, 4))

    (change,) = calendar.changes(cursor).changes

    assert (change.kind, change.until) == (ChangeKind.SERIES_SHORTENED, date(2027, 1, 3))


def test_an_expired_delta_token_means_a_full_resync_from_the_current_state(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, ref, cursor = synced
    graph.decline_occurrence(REPS[0], ref.provider_event_id, FIRST)
    graph.expire_delta_tokens()

    result = calendar.changes(cursor)

    assert result.full_sync
    assert kinds(result.changes) == [(ChangeKind.ATTENDEE_RESPONDED, FIRST)]
    assert graph.count("GET", "/me/calendarView/delta") == 3  # 410, then two pages
    assert calendar.changes(result.cursor).full_sync is False


def test_a_series_deleted_while_the_token_was_lost_is_still_seen(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, ref, cursor = synced
    graph.delete_series(ref.provider_event_id)
    graph.expire_delta_tokens()

    result = calendar.changes(cursor)

    assert result.full_sync
    assert kinds(result.changes) == [(ChangeKind.SERIES_DELETED, None)]


def test_events_cadence_did_not_book_are_ignored(
    graph: GraphEmulator, calendar: OutlookCalendar, synced: Synced
) -> None:
    _, _, cursor = synced
    untagged = {
        "subject": "Team stand-up",
        "start": {"dateTime": "2026-12-08T09:00:00", "timeZone": "America/Los_Angeles"},
        "end": {"dateTime": "2026-12-08T09:15:00", "timeZone": "America/Los_Angeles"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
            "range": {"type": "noEnd", "startDate": "2026-12-08"},
        },
        "attendees": [{"emailAddress": {"address": REPS[1]}, "type": "required"}],
    }
    stand_up = calendar.graph.call("POST", "/me/events", json=untagged)
    graph.cancel_occurrence(stand_up["id"], datetime(2026, 12, 15, 17, tzinfo=UTC))
    graph.decline_occurrence(REPS[1], stand_up["id"], datetime(2026, 12, 22, 17, tzinfo=UTC))
    graph.add_event(MANAGER, "Dentist", FIRST, FIRST + timedelta(hours=1))

    assert calendar.changes(cursor).changes == ()
