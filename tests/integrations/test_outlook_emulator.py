"""The Graph emulator is as strict as Graph where the adapter could go wrong.

These go through the adapter's own ``GraphClient`` (real ``requests`` over TLS), so a
mistake in the emulator's strictness shows up here rather than as a green adapter test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.outlook import OutlookCalendar
from integrations.outlook.events import create_payload
from integrations.outlook.graph import BatchRequest, GraphRequestError, SyncReset
from tests.emulators.graph import GraphEmulator
from tests.integrations.outlook_support import MANAGER, REPS, series_spec

pytest_plugins = ("tests.integrations.outlook_fixtures",)


def test_unknown_event_properties_are_refused_with_graphs_error(
    calendar: OutlookCalendar,
) -> None:
    body = create_payload(series_spec())
    body["recurrence"]["pattern"]["weekday"] = "monday"  # a typo for daysOfWeek
    with pytest.raises(GraphRequestError) as raised:
        calendar.graph.call("POST", "/me/events", json=body)
    assert raised.value.code == "RequestBodyRead"
    assert "microsoft.graph.recurrencePattern" in str(raised.value)


def test_a_recurrence_must_start_on_the_events_day(calendar: OutlookCalendar) -> None:
    body = create_payload(series_spec())
    body["recurrence"]["range"]["startDate"] = "2026-12-08"
    with pytest.raises(GraphRequestError, match="startDate"):
        calendar.graph.call("POST", "/me/events", json=body)


def test_a_repeated_transaction_id_returns_the_first_event(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    body = create_payload(series_spec())
    first = calendar.graph.call("POST", "/me/events", json=body)
    second = calendar.graph.call("POST", "/me/events", json=body)
    assert first["id"] == second["id"]
    assert len(graph.series_of(MANAGER)) == 1


def test_attachments_in_a_create_body_are_ignored_and_invites_carry_only_attached_files(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    """Why the adapter books in three steps: these shortcuts leave the rep without the file."""
    body = create_payload(series_spec())
    body["attachments"] = [
        {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.pdf", "contentBytes": "AA=="}
    ]
    body["attendees"] = [{"emailAddress": {"address": REPS[0]}, "type": "required"}]
    event = calendar.graph.call("POST", "/me/events", json=body)
    assert event["hasAttachments"] is False
    (invite,) = graph.invites
    assert invite.attachments == ()


def test_delta_refuses_query_options_and_forgets_expired_tokens(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    window = {"startDateTime": "2026-12-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"}
    with pytest.raises(GraphRequestError):
        calendar.graph.call("GET", "/me/calendarView/delta", params={**window, "$expand": "x"})
    page = calendar.graph.call("GET", "/me/calendarView/delta", params=window)
    graph.expire_delta_tokens()
    with pytest.raises(SyncReset, match="SyncStateNotFound"):
        calendar.graph.call("GET", page["@odata.deltaLink"])


def test_batches_hold_at_most_twenty_requests(calendar: OutlookCalendar) -> None:
    payload = {
        "requests": [{"id": str(n), "method": "GET", "url": "/me"} for n in range(21)],
    }
    with pytest.raises(GraphRequestError, match="20"):
        calendar.graph.call("POST", "/$batch", json=payload)
    answers = calendar.graph.batch([BatchRequest(str(n), "GET", "/me") for n in range(21)])
    assert len(answers) == 21  # the client splits them


def test_subscriptions_may_not_outlive_4230_minutes(calendar: OutlookCalendar) -> None:
    too_late = datetime.now(UTC) + timedelta(minutes=4231)
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": "https://cadence.test/hook",
        "resource": "me/events",
        "expirationDateTime": too_late.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clientState": "s",
    }
    with pytest.raises(GraphRequestError, match="4230"):
        calendar.graph.call("POST", "/subscriptions", json=body)


def test_weekly_series_are_expanded_in_their_own_zone(calendar: OutlookCalendar) -> None:
    event = calendar.graph.call("POST", "/me/events", json=create_payload(series_spec()))
    page = calendar.graph.call(
        "GET",
        f"/me/events/{event['id']}/instances",
        params={"startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-03-30T00:00:00Z"},
        headers={"Prefer": 'outlook.timezone="America/Los_Angeles"'},
    )
    assert {i["start"]["dateTime"][11:16] for i in page["value"]} == {"09:00"}
    assert [i["originalStart"] for i in page["value"]] == [
        "2027-03-01T17:00:00Z",
        "2027-03-08T17:00:00Z",
        "2027-03-15T16:00:00Z",  # daylight saving time began on 14 March
        "2027-03-22T16:00:00Z",
        "2027-03-29T16:00:00Z",
    ]
