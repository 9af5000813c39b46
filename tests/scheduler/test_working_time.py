"""Working hours as stored, checked and said; zones Cadence knows."""

from __future__ import annotations

from datetime import time

import pytest

from scheduler.availability import WorkingHours
from scheduler.working_time import (
    describe_hours,
    hours_errors,
    hours_from_shape,
    hours_shape,
    known_zone,
)

NINE_TO_FIVE = ((time(9), time(17)),)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("America/New_York", True),
        ("UTC", True),
        ("Asia/Calcutta", True),  # a backward link browsers still report
        ("", False),
        ("Mars/Olympus_Mons", False),
        ("../../etc/passwd", False),
        ("Eastern Standard Time", False),  # a Windows name: map it first
        ("Europe/" + "x" * 300, False),  # too long for a file name
    ],
)
def test_known_zones(name: str, known: bool) -> None:
    assert known_zone(name) is known


def test_the_stored_shape_round_trips() -> None:
    days = {0: NINE_TO_FIVE, 2: ((time(8), time(12)), (time(13), time(17))), 6: ()}
    shape = hours_shape(days)
    assert shape == {"0": [["09:00", "17:00"]], "2": [["08:00", "12:00"], ["13:00", "17:00"]]}
    assert hours_from_shape("Europe/Paris", shape) == WorkingHours(
        "Europe/Paris", {0: days[0], 2: days[2]}
    )
    assert hours_from_shape("Europe/Paris", None) == WorkingHours("Europe/Paris")


def test_hours_errors_name_each_day_and_an_empty_week() -> None:
    errors = hours_errors({0: (time(9), time(17)), 3: (time(17), time(9)), 4: (time(9), time(9))})
    assert [e.field for e in errors] == ["working_hours[3]", "working_hours[4]"]
    assert [e.field for e in hours_errors({})] == ["working_hours"]


@pytest.mark.parametrize(
    ("days", "said"),
    [
        ({d: NINE_TO_FIVE for d in range(5)}, "Mon-Fri 09:00-17:00"),
        (
            {0: NINE_TO_FIVE, 1: NINE_TO_FIVE, 3: ((time(8), time(12)),)},
            "Mon-Tue 09:00-17:00; Thu 08:00-12:00",
        ),
        ({}, "no working days"),
    ],
)
def test_hours_are_said_in_runs_of_days(days, said) -> None:
    assert describe_hours(WorkingHours("UTC", days)) == said
