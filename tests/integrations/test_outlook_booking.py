"""Booking a weekly 1:1 in Outlook: one event, one agenda file, one invite — whatever fails."""

from __future__ import annotations

import base64
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from integrations.base import (
    AgendaDocument,
    NotFound,
    RateLimited,
    ReconnectRequired,
    SeriesRef,
    SeriesSpec,
    Transient,
)
from integrations.outlook import OutlookCalendar
from integrations.outlook.events import SERIES_PROPERTY_ID, transaction_id
from integrations.retry import RetryPolicy
from tests.emulators.graph import GraphEmulator
from tests.emulators.graph_calendar import parse_local
from tests.fakes import MemoryTokenStore
from tests.integrations.outlook_support import (
    MANAGER,
    REPS,
    Sleeps,
    make_calendar,
    populate,
    series_spec,
    sign_in,
)

pytest_plugins = ("tests.integrations.outlook_fixtures",)

FIRST = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # Monday 9:00 in Los Angeles (PST)


def booked_state(graph: GraphEmulator, rep: str = REPS[0]) -> tuple[int, int, int]:
    """(series in Maria's calendar, files on them, invitations the rep received)."""
    series = graph.series_of(MANAGER)
    files = sum(len(s.attachments) for s in series)
    invites = [i for i in graph.invites if i.kind == "invite" and i.attendee == rep]
    return len(series), files, len(invites)


def test_a_booking_is_three_calls_and_the_invite_carries_the_agenda(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    ref = calendar.create_series(series_spec())

    assert [(c.method, c.path.replace(ref.provider_event_id, "{id}")) for c in graph.calls] == [
        ("POST", "/me/events"),
        ("POST", "/me/events/{id}/attachments"),
        ("PATCH", "/me/events/{id}"),
    ]
    assert booked_state(graph) == (1, 1, 1)
    (invite,) = [i for i in graph.invites if i.kind == "invite"]
    assert invite.attachments == ("agenda.pdf",)
    master = graph.series_of(MANAGER)[0]
    assert master.data["transactionId"] == transaction_id("series-1")
    assert master.data["singleValueExtendedProperties"] == [
        {"id": SERIES_PROPERTY_ID, "value": "series-1"}
    ]
    assert master.data["body"]["contentType"] == "HTML"
    assert base64.b64decode(master.attachments[0]["contentBytes"]) == b"%PDF-1.4 agenda"
    # The rep's calendar has the series too, with the file.
    (copy,) = graph.mailboxes[REPS[0]].events.values()
    assert [a["name"] for a in copy.attachments] == ["agenda.pdf"]


def test_the_series_repeats_at_nine_in_the_organisers_zone_across_dst(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    spec = series_spec(first_day=date(2027, 3, 1))
    calendar.create_series(spec)
    master = graph.series_of(MANAGER)[0]
    assert master.data["recurrence"]["pattern"]["daysOfWeek"] == ["monday"]
    assert master.data["recurrence"]["range"]["startDate"] == "2027-03-01"
    assert parse_local(master.data["start"]).hour == 9
    # 8 March 2027 is PST (UTC-8), 15 March PDT (UTC-7): 9:00 local both weeks.
    page = calendar.graph.call(
        "GET",
        f"/me/events/{master.id}/instances",
        params={"startDateTime": "2027-03-07T00:00:00Z", "endDateTime": "2027-03-16T00:00:00Z"},
    )
    starts = sorted(i["originalStart"] for i in page["value"])
    assert starts == ["2027-03-08T17:00:00Z", "2027-03-15T16:00:00Z"]


def test_teams_meeting_is_requested_when_the_spec_asks(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    calendar.create_series(series_spec(video_meeting=True))
    data = graph.series_of(MANAGER)[0].data
    assert (data["isOnlineMeeting"], data["onlineMeetingProvider"]) == (True, "teamsForBusiness")


@pytest.mark.parametrize("step", ["/me/events", "/attachments", "/me/events/"])
def test_throttling_at_any_step_still_books_exactly_once(
    graph: GraphEmulator, calendar: OutlookCalendar, sleeps: Sleeps, step: str
) -> None:
    method = {"/me/events": "POST", "/attachments": "POST", "/me/events/": "PATCH"}[step]
    graph.fail(429, times=2, retry_after=0.2, path=step, method=method)
    graph.fail(503, times=1, retry_after=0.2, path=step, method=method)

    calendar.create_series(series_spec())

    assert booked_state(graph) == (1, 1, 1)
    assert sleeps.waited == [0.2, 0.2, 0.2]  # Graph's Retry-After, not our backoff


@pytest.mark.parametrize("crash_after", ["create", "attach", "invite"])
def test_a_retry_after_a_crash_at_any_step_converges(
    graph: GraphEmulator, calendar: OutlookCalendar, store: MemoryTokenStore, crash_after: str
) -> None:
    """Graph does the work but the answer is lost (a timeout); later the job runs again."""
    spec = series_spec()
    method, path = {
        "create": ("POST", "/me/events"),
        "attach": ("POST", "/attachments"),
        "invite": ("PATCH", "/me/events/"),
    }[crash_after]
    graph.fail(None, times=1, delay=0.6, method=method, path=path)
    hasty = make_calendar(graph, store, None, timeout=0.3, retry=RetryPolicy(attempts=1))
    with pytest.raises(Transient):
        hasty.create_series(spec)
    time.sleep(0.5)  # the lost request completes on the server meanwhile

    ref = calendar.create_series(spec)  # the job runs again
    ref_again = calendar.create_series(spec)  # and a double click does too

    assert ref == ref_again
    assert booked_state(graph) == (1, 1, 1)


def test_when_graph_answers_a_repeated_transaction_with_409_the_series_is_found() -> None:
    with GraphEmulator(transaction_conflict=True) as graph:
        populate(graph)
        calendar = make_calendar(graph, MemoryTokenStore(sign_in(graph, MANAGER)), None)
        first = calendar.create_series(series_spec())
        second = calendar.create_series(series_spec())
        assert first.provider_event_id == second.provider_event_id
        assert booked_state(graph) == (1, 1, 1)
        assert graph.count("POST", "/me/events") == 2
        assert graph.count("GET", "/me/events") == 1  # found by its extended property


def test_throttling_that_never_ends_surfaces_as_rate_limited(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    graph.fail(429, times=10, retry_after=0.2, path="/me/events", method="POST")
    with pytest.raises(RateLimited) as raised:
        calendar.create_series(series_spec())
    assert raised.value.retry_after == 0.2
    assert graph.count("POST", "/me/events") == 5  # the policy's five attempts, no more


def test_a_revoked_grant_is_reconnect_required_not_silence(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    graph.revoke(MANAGER)
    with pytest.raises(ReconnectRequired):
        calendar.create_series(series_spec())
    assert graph.series_of(MANAGER) == []


# ---------------------------------------------------------------------- after booking


Booked = tuple[SeriesSpec, SeriesRef]


@pytest.fixture
def booked(calendar: OutlookCalendar) -> Booked:
    spec = series_spec()
    return spec, calendar.create_series(spec)


def test_move_one_occurrence_keeps_its_duration(
    graph: GraphEmulator, calendar: OutlookCalendar, booked: Booked
) -> None:
    spec, ref = booked
    second = FIRST + timedelta(weeks=1)
    calendar.move_occurrence(ref, spec, second, second + timedelta(days=1, hours=2))
    change = graph.series_of(MANAGER)[0].exceptions[second]
    assert (change.start, change.end) == (
        second + timedelta(days=1, hours=2),
        second + timedelta(days=1, hours=2, minutes=30),
    )


def test_cancel_one_occurrence_tells_the_rep_and_is_idempotent(
    graph: GraphEmulator, calendar: OutlookCalendar, booked: Booked
) -> None:
    spec, ref = booked
    calendar.cancel_occurrence(ref, spec, FIRST)
    calendar.cancel_occurrence(ref, spec, FIRST)
    assert graph.series_of(MANAGER)[0].exceptions[FIRST].cancelled
    assert [i.kind for i in graph.invites if i.kind == "cancel"] == ["cancel"]


def test_end_series_shortens_it_or_deletes_it_when_nothing_remains(
    graph: GraphEmulator, calendar: OutlookCalendar, booked: Booked
) -> None:
    spec, ref = booked
    calendar.end_series(ref, spec, date(2027, 1, 4))
    rng = graph.series_of(MANAGER)[0].data["recurrence"]["range"]
    assert (rng["type"], rng["endDate"]) == ("endDate", "2027-01-03")

    calendar.end_series(ref, spec, spec.first_day)
    assert graph.series_of(MANAGER) == []
    calendar.end_series(ref, spec, spec.first_day)  # already gone: done, not an error


def test_update_one_occurrences_agenda_replaces_body_and_file(
    graph: GraphEmulator, calendar: OutlookCalendar, booked: Booked
) -> None:
    spec, ref = booked
    new = AgendaDocument("1:1", "carry over", "<p>carry over</p>", "u", b"%PDF new", "agenda.pdf")
    graph.reset_counts()
    calendar.update_occurrence_agenda(ref, spec, FIRST, new)
    calendar.update_occurrence_agenda(ref, spec, FIRST, new)

    change = graph.series_of(MANAGER)[0].exceptions[FIRST]
    assert change.body == {"contentType": "HTML", "content": "<p>carry over</p>"}
    assert [base64.b64decode(a["contentBytes"]) for a in change.attachments] == [b"%PDF new"]
    assert graph.count() == 6  # per update: instances lookup + two $batch round trips
    # The other weeks keep the original agenda.
    assert len(graph.series_of(MANAGER)[0].attachments) == 1


def test_a_failed_agenda_upload_leaves_the_old_agenda_and_a_retry_replaces_it(
    graph: GraphEmulator, calendar: OutlookCalendar, booked: Booked
) -> None:
    spec, ref = booked
    new = AgendaDocument("1:1", "carry over", "<p>carry over</p>", "u", b"%PDF new", "agenda.pdf")
    graph.fail(500, times=10, path="/attachments", method="POST")

    with pytest.raises((RateLimited, Transient)):  # both are retried by the job queue
        calendar.update_occurrence_agenda(ref, spec, FIRST, new)

    def agenda() -> tuple[dict | None, list[bytes]]:
        series = graph.series_of(MANAGER)[0]
        change = series.exceptions[FIRST]
        files = series.attachments if change.attachments is None else change.attachments
        return change.body, [base64.b64decode(a["contentBytes"]) for a in files]

    assert agenda() == (None, [b"%PDF-1.4 agenda"])  # the week keeps the agenda it had
    graph.faults.clear()
    calendar.update_occurrence_agenda(ref, spec, FIRST, new)  # the job's retry
    assert agenda() == ({"contentType": "HTML", "content": "<p>carry over</p>"}, [b"%PDF new"])


def test_an_unknown_occurrence_is_not_found(calendar: OutlookCalendar, booked: Booked) -> None:
    spec, ref = booked
    with pytest.raises(NotFound):
        calendar.move_occurrence(ref, spec, FIRST + timedelta(hours=1), FIRST)
