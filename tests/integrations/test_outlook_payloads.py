"""The pure pieces of the Outlook adapter: zones, payloads, Graph times, cursors, windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from integrations.base import CalendarChange, ChangeKind, Response
from integrations.outlook.events import (
    create_payload,
    parse_graph_time,
    recurrence_payload,
    transaction_id,
)
from integrations.outlook.schedule import MAX_SCHEDULES, schedule_requests, working_hours
from integrations.outlook.sync import SyncState, occurrence_changes, restart
from integrations.outlook.zones import WINDOWS_TO_IANA, to_iana
from scheduler.intervals import Interval
from tests.integrations.outlook_support import series_spec


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("India Standard Time", "Asia/Calcutta"),
        ("UTC", "Etc/UTC"),
        ("Europe/Paris", "Europe/Paris"),  # Graph also reports IANA names as they are
        ("tzone://Microsoft/Custom", None),  # a custom zone: no guess
        ("Atlantis Standard Time", None),
    ],
)
def test_zone_names_from_graph(reported: str, expected: str | None) -> None:
    assert to_iana(reported) == expected


def test_every_windows_zone_in_the_table_exists_in_tzdata() -> None:
    for iana in WINDOWS_TO_IANA.values():
        ZoneInfo(iana)


@pytest.mark.parametrize(
    ("windows", "iana"),
    [
        # Kazakhstan moved to UTC+5 in 2024: CLDR now maps the UTC+6 name to Bishkek.
        ("Central Asia Standard Time", "Asia/Bishkek"),
        ("Yukon Standard Time", "America/Whitehorse"),
        ("Aleutian Standard Time", "America/Adak"),
        ("Magallanes Standard Time", "America/Punta_Arenas"),
        ("Russia Time Zone 3", "Europe/Samara"),
        ("West Bank Standard Time", "Asia/Hebron"),
        ("Aus Central W. Standard Time", "Australia/Eucla"),
        ("Line Islands Standard Time", "Pacific/Kiritimati"),
        ("UTC+12", "Etc/GMT-12"),  # POSIX signs: Etc/GMT-12 is twelve hours ahead
    ],
)
def test_the_table_is_cldrs_territory_001_mapping(windows: str, iana: str) -> None:
    assert to_iana(windows) == iana


def test_the_table_holds_every_windows_zone_cldr_names() -> None:
    # CLDR windowsZones.xml has 139 Windows names, each with one territory "001" default.
    assert len(WINDOWS_TO_IANA) == 139


def test_graph_times_with_seven_fraction_digits_and_windows_zones() -> None:
    value = {"dateTime": "2026-07-06T09:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert parse_graph_time(value) == datetime(2026, 7, 6, 16, tzinfo=UTC)  # PDT
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_graph_time({"dateTime": "2026-07-06T09:00:00", "timeZone": "Nowhere"})


def test_the_series_payload_starts_on_the_first_slot_day_in_the_organisers_zone() -> None:
    spec = series_spec(first_day=date(2026, 12, 3))  # a Thursday; the slot is on Mondays
    body = create_payload(spec)
    assert body["start"] == {"dateTime": "2026-12-07T09:00:00", "timeZone": "America/Los_Angeles"}
    assert body["end"]["dateTime"] == "2026-12-07T09:30:00"
    assert body["recurrence"]["range"] == {
        "type": "noEnd",
        "startDate": "2026-12-07",
        "recurrenceTimeZone": "America/Los_Angeles",
    }
    assert "attendees" not in body  # invited only once the agenda is attached
    assert "isOnlineMeeting" not in body


def test_an_end_date_and_stable_transaction_ids() -> None:
    spec = series_spec()
    assert recurrence_payload(spec, date(2026, 12, 7), date(2027, 3, 1))["range"] == {
        "type": "endDate",
        "startDate": "2026-12-07",
        "endDate": "2027-03-01",
        "recurrenceTimeZone": "America/Los_Angeles",
    }
    assert transaction_id("s-1") == transaction_id("s-1") != transaction_id("s-2")


def test_get_schedule_requests_respect_100_people_and_62_days() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    window = Interval(start, start + timedelta(days=130))
    people = [f"p{n}@x.test" for n in range(MAX_SCHEDULES + 1)]

    calls = list(schedule_requests(people, window))

    assert [(span.end - span.start).days for span, _ in calls] == [62, 62, 62, 62, 6, 6]
    assert [len(body["schedules"]) for _, body in calls] == [100, 1] * 3
    assert calls[-1][0].end == window.end


def test_working_hours_graph_cannot_express_are_left_out() -> None:
    overnight = {
        "daysOfWeek": ["monday"],
        "startTime": "22:00:00.0000000",
        "endTime": "06:00:00.0000000",
        "timeZone": {"name": "UTC"},
    }
    assert working_hours(overnight) is None
    assert working_hours({**overnight, "timeZone": {"name": "tzone://Microsoft/Custom"}}) is None
    day = {**overnight, "startTime": "08:30:00.0000000", "endTime": "16:00:00.0000000"}
    assert working_hours(day).days == {0: ((time(8, 30), time(16)),)}


def test_a_cursor_that_cannot_be_read_means_a_full_sync() -> None:
    assert SyncState.load(None) is None
    assert SyncState.load("not json") is None
    assert SyncState.load('{"delta": "x"}') is None
    window = Interval(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    state = SyncState("https://graph/delta?$deltatoken=t", window, {"m": "s"}, {"o": ("m", "z")})
    again = SyncState.load(restart(state.dump()))
    assert again is not None
    assert (again.delta_link, again.masters, again.occurrences) == (
        "",
        {"m": "s"},
        {"o": ("m", "z")},
    )


def _occurrence(**changes: object) -> dict:
    """An occurrence of master "M" as calendarView delta shows it to the organiser."""
    item = {
        "id": "M_20261207T170000Z",
        "seriesMasterId": "M",
        "type": "occurrence",
        "originalStart": "2026-12-07T17:00:00Z",
        "start": {"dateTime": "2026-12-07T17:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-07T17:30:00.0000000", "timeZone": "UTC"},
        "isCancelled": False,
        "organizer": {"emailAddress": {"address": "Maria@contoso.test"}},
        "attendees": [
            {
                "emailAddress": {"address": "maria@contoso.test"},
                "status": {"response": "organizer"},
            },
            {"emailAddress": {"address": "Rep1@contoso.test"}, "status": {"response": "none"}},
        ],
    }
    return item | changes


ORIGINAL = datetime(2026, 12, 7, 17, tzinfo=UTC)


def _rep_says(response: str) -> dict:
    item = _occurrence()
    item["attendees"][1]["status"] = {"response": response}
    return item


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_occurrence(), []),
        (_rep_says("notResponded"), []),
        (
            _occurrence(isCancelled=True),
            [CalendarChange(ChangeKind.OCCURRENCE_CANCELLED, "s", "M", ORIGINAL)],
        ),
        (
            _occurrence(
                type="exception",
                start={"dateTime": "2026-12-08T09:00:00", "timeZone": "Pacific Standard Time"},
                end={"dateTime": "2026-12-08T09:30:00", "timeZone": "Pacific Standard Time"},
            ),
            [
                CalendarChange(
                    ChangeKind.OCCURRENCE_MOVED,
                    "s",
                    "M",
                    ORIGINAL,
                    new_start=ORIGINAL + timedelta(days=1),
                    new_end=ORIGINAL + timedelta(days=1, minutes=30),
                )
            ],
        ),
        *[
            (
                _rep_says(graph_word),
                [
                    CalendarChange(
                        ChangeKind.ATTENDEE_RESPONDED,
                        "s",
                        "M",
                        ORIGINAL,
                        response=ours,
                        attendee_email="rep1@contoso.test",
                        changed_by="rep1@contoso.test",
                    )
                ],
            )
            for graph_word, ours in [
                ("accepted", Response.ACCEPTED),
                ("tentativelyAccepted", Response.TENTATIVE),
                ("declined", Response.DECLINED),
            ]
        ],
    ],
)
def test_what_an_occurrence_says_happened(item: dict, expected: list[CalendarChange]) -> None:
    assert list(occurrence_changes(item, "s")) == expected
