"""Conflicts of a booked series and same-week alternatives."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.conflicts import find_conflicts
from scheduler.intervals import Busy, BusyKind, Interval
from scheduler.recurrence import WeeklySlot

NY, LONDON = "America/New_York", "Europe/London"
MONDAY = date(2026, 2, 2)  # the weeks below stay on standard time in New York and London
HALF_HOUR = timedelta(minutes=30)
NY_HOURS = WorkingHours(NY)
SERIES = WeeklySlot(weekday=0, local_time=time(9), duration=HALF_HOUR, zone=NY)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(NY))


def busy(day: date, hour: int, minutes: int = 60, **kwargs) -> Busy:
    start = ny(day, hour)
    return Busy(Interval(start, start + timedelta(minutes=minutes)), **kwargs)


def conflicts(manager=(), rep=(), *, series=SERIES, rep_hours=NY_HOURS, rep_unknown=(), **kwargs):
    options = {"from_day": MONDAY, "weeks": 2} | kwargs
    return find_conflicts(
        series,
        MONDAY,
        PersonAvailability("m@x", busy=tuple(manager)),
        WorkingHours(NY),
        PersonAvailability("r@x", busy=tuple(rep), unknown=tuple(rep_unknown)),
        rep_hours,
        **options,
    )


def walls(intervals) -> list[tuple[str, time]]:
    local = [i.start.astimezone(ZoneInfo(NY)) for i in intervals]
    return [(f"{start:%a}", start.time()) for start in local]


def own_occurrences(weeks: int) -> list[Busy]:
    return [Busy(o, label="series-1") for o in SERIES.occurrences(MONDAY, weeks)]


def test_a_free_series_has_no_conflicts():
    assert conflicts(manager=own_occurrences(2), rep=own_occurrences(2)) == []


def test_a_collision_names_the_person_and_the_busy_time_with_alternatives_the_same_day():
    week_two = MONDAY + timedelta(weeks=1)
    meeting = busy(week_two, 9, kind=BusyKind.TENTATIVE)
    [found] = conflicts(manager=[meeting, *own_occurrences(2)])
    assert found.day == week_two
    assert found.occurrence == SERIES.occurrence_on(week_two)
    assert [(c.email, c.busy) for c in found.clashes] == [("m@x", meeting)]
    # nearest the original 09:00 on the same day; 08:45 is outside working hours
    expected = [("Mon", time(10)), ("Mon", time(10, 15)), ("Mon", time(10, 30))]
    assert walls(found.alternatives) == expected
    assert all(a.end - a.start == HALF_HOUR for a in found.alternatives)


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        (
            "a busy day moves to the nearest day, earlier first on a tie",
            {
                "rep": [busy(MONDAY + timedelta(days=2), 0, 24 * 60, kind=BusyKind.OUT_OF_OFFICE)],
                "series": WeeklySlot(2, time(9), HALF_HOUR, NY),
            },
            [("Tue", time(9)), ("Tue", time(9, 15)), ("Tue", time(9, 30))],
        ),
        (
            "never before from_day: Tuesday is past, Thursday is next",
            {
                "rep": [busy(MONDAY + timedelta(days=2), 0, 24 * 60)],
                "series": WeeklySlot(2, time(9), HALF_HOUR, NY),
                "from_day": MONDAY + timedelta(days=2),
                "weeks": 1,
            },
            [("Thu", time(9)), ("Thu", time(9, 15)), ("Thu", time(9, 30))],
        ),
        (
            "inside the London rep's hours too: New York 09:00-12:00",
            {"rep": [busy(MONDAY, 9, 120)], "rep_hours": WorkingHours(LONDON)},
            [("Mon", time(11)), ("Mon", time(11, 15)), ("Mon", time(11, 30))],
        ),
        (
            "time that could not be read is not offered",
            {"rep": [busy(MONDAY, 9)], "rep_unknown": [Interval(ny(MONDAY, 10), ny(MONDAY, 17))]},
            [("Tue", time(9)), ("Tue", time(9, 15)), ("Tue", time(9, 30))],
        ),
        (
            "fewer than three when the week is nearly full",
            {
                "rep": [busy(MONDAY + timedelta(days=d), 0, 24 * 60) for d in range(4)]
                + [busy(MONDAY + timedelta(days=4), 0, 16 * 60 + 15)]
            },
            [("Fri", time(16, 15)), ("Fri", time(16, 30))],
        ),
    ],
)
def test_alternatives_of_the_first_week(case, kwargs, expected):
    [found] = conflicts(**{"weeks": 1} | kwargs)
    assert walls(found.alternatives) == expected, case


def test_own_occurrences_are_ignored_by_time_or_by_label():
    moved = Busy(Interval(ny(MONDAY, 9, 15), ny(MONDAY, 9, 45)), label="series-1")
    assert conflicts(rep=[moved], series_label="series-1") == []
    assert len(conflicts(rep=[moved])) == 1


def test_only_occurrences_in_the_window_and_after_the_series_starts():
    every_monday = [busy(MONDAY + timedelta(weeks=n), 9) for n in range(5)]
    found = conflicts(manager=every_monday, from_day=MONDAY + timedelta(days=2), weeks=2)
    assert [c.day for c in found] == [date(2026, 2, 9), date(2026, 2, 16)]
    later_series = find_conflicts(
        SERIES,
        date(2026, 2, 16),
        PersonAvailability("m@x", busy=tuple(every_monday)),
        WorkingHours(NY),
        PersonAvailability("r@x"),
        WorkingHours(NY),
        from_day=MONDAY,
        weeks=4,
    )
    assert [c.day for c in later_series] == [date(2026, 2, 16), date(2026, 2, 23)]


def test_the_occurrence_follows_the_local_time_across_dst():
    # New York moves to EDT on March 8: Monday 09:00 is 14:00 UTC, then 13:00 UTC
    before, after = date(2026, 3, 2), date(2026, 3, 9)
    at_utc = [
        Busy(Interval(datetime(2026, 3, 2, 13, tzinfo=UTC), datetime(2026, 3, 2, 14, tzinfo=UTC))),
        Busy(Interval(datetime(2026, 3, 9, 13, tzinfo=UTC), datetime(2026, 3, 9, 14, tzinfo=UTC))),
    ]
    found = find_conflicts(
        SERIES,
        before,
        PersonAvailability("m@x", busy=tuple(at_utc)),
        WorkingHours(NY),
        PersonAvailability("r@x"),
        WorkingHours(NY),
        from_day=before,
        weeks=2,
    )
    assert [c.day for c in found] == [after]
