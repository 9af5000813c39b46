"""Free/busy through getSchedule: one call for a manager and eight reps, never "free" by error."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from integrations.outlook import OutlookCalendar
from integrations.outlook.graph import BatchRequest
from scheduler.intervals import Busy, BusyKind, Interval
from tests.emulators.graph import GraphEmulator
from tests.integrations.outlook_support import MANAGER, REPS, series_spec

pytest_plugins = ("tests.integrations.outlook_fixtures",)

WEEK = Interval(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC))


def test_manager_and_eight_reps_cost_one_get_schedule_then_three_calls_per_booking(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    found = calendar.free_busy([MANAGER, *REPS], WEEK)
    assert set(found) == {MANAGER, *REPS}
    assert graph.count() == 1 and graph.count("POST", "/me/calendar/getSchedule") == 1

    for n, rep in enumerate(REPS):
        calendar.create_series(series_spec(rep, series_id=f"series-{n}"))

    assert graph.count() == 1 + 8 * 3
    assert graph.count("POST", "/me/events") == 8
    assert graph.identity.token_requests == 0  # the cached access token served every call


def test_busy_tentative_and_out_of_office_come_back_with_their_kind(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    monday = datetime(2026, 12, 7, 17, tzinfo=UTC)
    graph.add_event(REPS[0], "Pipeline review", monday, monday + timedelta(hours=1))
    graph.add_event(
        REPS[0],
        "Maybe lunch",
        monday + timedelta(hours=2),
        monday + timedelta(hours=3),
        show_as="tentative",
    )
    graph.add_event(
        REPS[0], "Holiday", monday + timedelta(days=1), monday + timedelta(days=3), show_as="oof"
    )
    graph.add_event(
        REPS[0], "Focus", monday + timedelta(hours=4), monday + timedelta(hours=5), show_as="free"
    )

    person = calendar.free_busy([REPS[0]], WEEK)[REPS[0]]

    assert sorted(person.busy, key=lambda b: b.start) == [
        Busy(Interval(monday, monday + timedelta(hours=1)), BusyKind.BUSY, "Pipeline review"),
        Busy(
            Interval(monday + timedelta(hours=2), monday + timedelta(hours=3)),
            BusyKind.TENTATIVE,
            "Maybe lunch",
        ),
        Busy(
            Interval(monday + timedelta(days=1), monday + timedelta(days=3)),
            BusyKind.OUT_OF_OFFICE,
            "Holiday",
        ),
    ]
    assert person.unknown == ()


def test_working_hours_arrive_with_the_windows_zone_mapped_to_iana(
    calendar: OutlookCalendar,
) -> None:
    found = calendar.free_busy([MANAGER, REPS[0]], WEEK)
    assert found[MANAGER].working_hours.zone == "America/Los_Angeles"
    rep_hours = found[REPS[0]].working_hours
    assert rep_hours.zone == "America/New_York"
    assert rep_hours.days == {day: ((time(9), time(17)),) for day in range(5)}


def test_an_unreadable_calendar_is_unknown_never_free(calendar: OutlookCalendar) -> None:
    stranger = "someone@elsewhere.test"
    found = calendar.free_busy([REPS[0], stranger], WEEK)
    assert found[stranger].busy == ()
    assert found[stranger].unknown == (WEEK,)
    assert found[stranger].working_hours is None
    assert found[REPS[0]].unknown == ()


def test_long_windows_and_many_people_are_split_within_graphs_limits_in_one_batch(
    graph: GraphEmulator, calendar: OutlookCalendar
) -> None:
    """100 schedules and 62 days per getSchedule: 150 people x 100 days = 4 calls, 1 $batch."""
    people = [MANAGER, *REPS] + [f"guest{n}@elsewhere.test" for n in range(141)]
    window = Interval(WEEK.start, WEEK.start + timedelta(days=100))
    late = WEEK.start + timedelta(days=80)
    graph.add_event(REPS[1], "Quarter close", late, late + timedelta(hours=2))

    found = calendar.free_busy(people, window)

    assert graph.count() == 1 and graph.count("POST", "/$batch") == 1
    assert graph.count("POST", "/me/calendar/getSchedule", in_batch=True) == 4
    assert [b.label for b in found[REPS[1]].busy] == ["Quarter close"]
    assert found["guest7@elsewhere.test"].unknown == (
        Interval(window.start, window.start + timedelta(days=62)),
        Interval(window.start + timedelta(days=62), window.end),
    )


def test_the_emulator_refuses_what_graph_refuses(calendar: OutlookCalendar) -> None:
    day = {
        "schedules": [MANAGER],
        "startTime": {"dateTime": "2026-12-01T00:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2026-12-02T00:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 30,
    }
    bodies = {
        "day": day,
        "long": {**day, "endTime": {"dateTime": "2027-02-02T00:00:00", "timeZone": "UTC"}},
        "typo": {**day, "timeWindow": "week"},
        "crowd": {**day, "schedules": ["x@y.test"] * 101},
    }
    answers = calendar.graph.batch(
        [BatchRequest(k, "POST", "/me/calendar/getSchedule", v) for k, v in bodies.items()]
    )
    assert {k: status for k, (status, _) in answers.items()} == {
        "day": 200,
        "long": 400,
        "typo": 400,
        "crowd": 400,
    }
    error = answers["typo"][1]["error"]
    assert error["code"] == "RequestBodyRead"
    assert (
        "'timeWindow' does not exist on type 'microsoft.graph.getScheduleRequest'"
        in (error["message"])
    )
