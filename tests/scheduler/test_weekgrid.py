"""The week grid: positions, their instants across DST, and one calendar laid on them."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Busy, Interval
from scheduler.weekgrid import Horizon, build_calendar_grid, positions_in, week_frame

NY = "America/New_York"
SPRING = date(2026, 3, 2)  # week 0 ends on Sunday March 8, New York's spring-forward day


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(NY))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weeks": 0}, "at least one week"),
        ({"duration": timedelta(0)}, "duration"),
        ({"step": timedelta(minutes=7)}, "step"),
        ({"step": timedelta(seconds=90)}, "step"),
    ],
)
def test_invalid_horizons_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Horizon(NY, SPRING, **kwargs)


@pytest.mark.parametrize(
    ("first_day", "week", "weekday", "expected"),
    [
        (date(2026, 3, 2), 0, 0, date(2026, 3, 2)),  # starts on a Monday
        (date(2026, 3, 4), 0, 0, date(2026, 3, 9)),  # starts on a Wednesday: Monday is next
        (date(2026, 3, 4), 0, 2, date(2026, 3, 4)),
        (date(2026, 3, 4), 2, 1, date(2026, 3, 24)),
    ],
)
def test_a_weeks_days_start_on_the_first_day(first_day, week, weekday, expected):
    assert Horizon(NY, first_day, weeks=3).day(week, weekday) == expected


@pytest.mark.parametrize(
    ("weekday", "wall", "expected"),
    [
        (0, time(9), ny(SPRING, 9)),
        (6, time(1, 45), ny(date(2026, 3, 8), 1, 45)),
        (6, time(2, 30), ny(date(2026, 3, 8), 3, 30)),  # inside the gap: an hour later
        (6, time(3, 30), ny(date(2026, 3, 8), 3, 30)),  # the same instant as the gap's 02:30
    ],
)
def test_positions_start_at_rfc5545_instants(weekday, wall, expected):
    horizon = Horizon(NY, SPRING, weeks=1)
    assert week_frame(horizon).start(0, horizon.position(weekday, wall)) == expected


def test_busy_time_marks_every_start_it_would_collide_with():
    horizon = Horizon(NY, SPRING, weeks=2)
    meeting = Busy(Interval(ny(SPRING, 10), ny(SPRING, 11)))
    grid = build_calendar_grid(
        PersonAvailability("a@x", busy=(meeting,)), WorkingHours(NY), horizon
    )
    walls = [horizon.wall_time(p) for p in positions_in(grid.busy[0])]
    # a 30-minute meeting starting 09:45 to 10:45 overlaps 10:00-11:00
    expected = [time(9, 45), time(10), time(10, 15), time(10, 30), time(10, 45)]
    assert walls == [(0, wall) for wall in expected]
    assert grid.busy[1] == 0
    start = int(ny(SPRING, 10, 45).timestamp())
    assert grid.clashes(start, start + 1800) == [meeting]
    assert grid.clashes(start + 900, start + 2700) == []


def test_gap_starts_collide_with_the_hour_after_the_gap():
    horizon = Horizon(NY, SPRING, weeks=1)
    after_gap = Busy(Interval(ny(date(2026, 3, 8), 3), ny(date(2026, 3, 8), 3, 15)))
    grid = build_calendar_grid(
        PersonAvailability("a@x", busy=(after_gap,)), WorkingHours(NY), horizon
    )
    walls = {horizon.wall_time(p)[1] for p in positions_in(grid.busy[0])}
    # 01:45 EST runs into it; 02:00 does not exist and starts at 03:00 EDT, like 03:00 itself
    assert walls == {time(1, 45), time(2), time(3)}
