"""The pure parts of the Google adapter: ids, payload fields, and change mapping."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.base import AgendaDocument, ChangeKind, SeriesSpec
from integrations.google.events import (
    event_id,
    instance_id,
    recurrence_fields,
    series_body,
    series_id_of,
)
from integrations.google.sync import changes_from_events
from scheduler.recurrence import WeeklySlot

BASE32HEX_ID = re.compile(r"^[a-v0-9]{5,1024}$")
SPEC = SeriesSpec(
    series_id="3f2a9c1e-0000-4000-8000-000000000001",
    organization_id="org-1",
    organiser_email="pat@acme.test",
    attendee_email="rep@acme.test",
    title="1:1",
    slot=WeeklySlot(4, time(16, 30), timedelta(minutes=45), "Europe/Berlin"),
    first_day=date(2026, 3, 23),
    agenda=AgendaDocument("Agenda", "1. Status", "<p/>", "https://cadence.test/a"),
)


@given(st.text(min_size=1, max_size=600))
def test_event_ids_are_valid_google_ids_and_decode_back(series_id):
    google_id = event_id(series_id)

    assert BASE32HEX_ID.match(google_id)
    assert series_id_of(google_id) == series_id
    assert series_id_of(f"{google_id}_20260101T090000Z") == series_id


@pytest.mark.parametrize("foreign", ["abcdef", "cadence", "cadencezz", "7hq2k0", "cadence0_x"])
def test_ids_that_are_not_cadences_decode_to_nothing(foreign):
    assert series_id_of(foreign) is None


def test_a_series_id_too_long_for_google_is_refused():
    with pytest.raises(ValueError):
        event_id("x" * 700)


def test_instance_ids_use_the_utc_basic_start():
    start = datetime(2026, 3, 27, 16, 30, tzinfo=SPEC.slot.tz)

    assert instance_id("cadenceabc", start) == "cadenceabc_20260327T153000Z"


@pytest.mark.parametrize(
    ("until", "rule"),
    [
        (None, "RRULE:FREQ=WEEKLY;BYDAY=FR"),
        # end of the local day in Berlin: CET (+1) before, CEST (+2) after 2026-03-29
        (date(2026, 3, 27), "RRULE:FREQ=WEEKLY;BYDAY=FR;UNTIL=20260327T225959Z"),
        (date(2026, 4, 3), "RRULE:FREQ=WEEKLY;BYDAY=FR;UNTIL=20260403T215959Z"),
    ],
)
def test_recurrence_until_is_the_end_of_that_local_day_in_utc(until, rule):
    assert recurrence_fields(SPEC, until) == {"recurrence": [rule]}


def test_the_series_starts_on_the_first_slot_day_in_the_organisers_zone():
    body = series_body(SPEC)

    assert body["start"] == {"dateTime": "2026-03-27T16:30:00+01:00", "timeZone": "Europe/Berlin"}
    assert body["end"]["dateTime"] == "2026-03-27T17:15:00+01:00"
    assert "conferenceData" not in body


def test_bare_tombstones_of_our_events_still_map_to_changes():
    series = event_id(SPEC.series_id)
    events = [
        {"id": series, "status": "cancelled"},
        {
            "id": f"{series}_20260403T143000Z",
            "status": "cancelled",
            "recurringEventId": series,
            "originalStartTime": {"dateTime": "2026-04-03T16:30:00+02:00"},
        },
        {"id": "abcdef0123", "status": "cancelled"},  # not ours
    ]

    changes = changes_from_events(events)

    assert [(c.kind, c.series_id, c.original_start) for c in changes] == [
        (ChangeKind.SERIES_DELETED, SPEC.series_id, None),
        (
            ChangeKind.OCCURRENCE_CANCELLED,
            SPEC.series_id,
            datetime(2026, 4, 3, 14, 30, tzinfo=UTC),
        ),
    ]


def test_the_same_change_seen_twice_is_reported_once():
    series = event_id(SPEC.series_id)
    tombstone = {"id": series, "status": "cancelled"}

    assert len(changes_from_events([tombstone, tombstone])) == 1
