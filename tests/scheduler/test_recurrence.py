"""WeeklySlot: same weekday and wall-clock time every week, RFC 5545 for DST gaps and overlaps."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.recurrence import WeeklySlot, local_instant, week_start

HALF_HOUR = timedelta(minutes=30)
ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "America/Los_Angeles",
    "UTC",
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Each row: a wall-clock time on a day, and the UTC instant it must start at.
DST_TABLE = [
    # spring forward: the local time does not exist, it moves forward by the gap (1h)
    ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30)),  # 03:30 EDT
    ("Europe/London", date(2026, 3, 29), time(1, 15), utc(2026, 3, 29, 1, 15)),  # 02:15 BST
    ("Australia/Sydney", date(2026, 10, 4), time(2, 0), utc(2026, 10, 3, 16, 0)),  # 03:00 AEDT
    ("America/Sao_Paulo", date(2018, 11, 4), time(0, 30), utc(2018, 11, 4, 3, 30)),  # 01:30 -02
    # fall back: the local time happens twice, the first instant (still summer time) wins
    ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # EDT
    ("Europe/London", date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 0, 30)),  # BST
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 15, 30)),  # AEDT
    ("America/Sao_Paulo", date(2019, 2, 16), time(23, 30), utc(2019, 2, 17, 1, 30)),  # -02
    # ordinary times either side of the changes, and a zone without DST
    ("America/New_York", date(2026, 3, 9), time(9, 0), utc(2026, 3, 9, 13, 0)),
    ("America/New_York", date(2026, 11, 2), time(9, 0), utc(2026, 11, 2, 14, 0)),
    ("Australia/Sydney", date(2026, 7, 6), time(9, 0), utc(2026, 7, 5, 23, 0)),
    ("America/Sao_Paulo", date(2026, 1, 5), time(9, 0), utc(2026, 1, 5, 12, 0)),  # no DST now
    ("Asia/Kolkata", date(2026, 3, 9), time(9, 0), utc(2026, 3, 9, 3, 30)),
]


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), DST_TABLE)
def test_local_instant_follows_rfc5545_for_gaps_and_overlaps(zone, day, wall, expected):
    assert local_instant(day, wall, ZoneInfo(zone)) == expected


# Each row: a 09:00 Monday series across a DST change stays at 09:00 local, so UTC moves.
SERIES_TABLE = [
    ("America/New_York", date(2026, 3, 2), [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]),
    ("America/New_York", date(2026, 10, 26), [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]),
    ("Europe/London", date(2026, 3, 23), [utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)]),
    ("Australia/Sydney", date(2026, 3, 30), [utc(2026, 3, 29, 22), utc(2026, 4, 5, 23)]),
    ("Australia/Sydney", date(2026, 9, 28), [utc(2026, 9, 27, 23), utc(2026, 10, 4, 22)]),
    ("America/Sao_Paulo", date(2018, 10, 29), [utc(2018, 10, 29, 12), utc(2018, 11, 5, 11)]),
    ("Asia/Kolkata", date(2026, 3, 2), [utc(2026, 3, 2, 3, 30), utc(2026, 3, 9, 3, 30)]),
]


@pytest.mark.parametrize(("zone", "first_day", "starts"), SERIES_TABLE)
def test_series_keeps_its_wall_time_across_dst(zone, first_day, starts):
    slot = WeeklySlot(weekday=0, local_time=time(9), duration=HALF_HOUR, zone=zone)
    occurrences = slot.occurrences(first_day, weeks=len(starts))
    assert [o.start for o in occurrences] == starts
    assert all(o.end - o.start == HALF_HOUR for o in occurrences)


def test_series_inside_a_gap_moves_forward_that_week_only():
    slot = WeeklySlot(
        weekday=6, local_time=time(2, 30), duration=HALF_HOUR, zone="America/New_York"
    )
    walls = slot.local_times(date(2026, 3, 1), weeks=3, zone="America/New_York")
    assert [w.time() for w in walls] == [time(2, 30), time(3, 30), time(2, 30)]


# Each row: organiser's Monday 09:00 New York, what the rep sees in their own zone that week.
REP_TABLE = [
    # the US moves on March 8, Europe on March 29: three weeks at 13:00 in London
    ("Europe/London", date(2026, 3, 2), [time(14), time(13), time(13), time(13), time(14)]),
    ("Asia/Kolkata", date(2026, 3, 2), [time(19, 30), time(18, 30), time(18, 30)]),
    # Sydney leaves DST on April 5 while New York stays: the rep's time moves a day later too
    ("Australia/Sydney", date(2026, 3, 30), [time(0), time(23)]),
]


@pytest.mark.parametrize(("rep_zone", "first_day", "walls"), REP_TABLE)
def test_rep_local_time_follows_both_zones(rep_zone, first_day, walls):
    slot = WeeklySlot(weekday=0, local_time=time(9), duration=HALF_HOUR, zone="America/New_York")
    seen = slot.local_times(first_day, weeks=len(walls), zone=rep_zone)
    assert [w.time() for w in seen] == walls
    assert all(w.tzinfo == ZoneInfo(rep_zone) for w in seen)


def test_sydney_rep_sees_the_monday_meeting_on_tuesday():
    slot = WeeklySlot(weekday=0, local_time=time(9), duration=HALF_HOUR, zone="America/New_York")
    seen = slot.local_times(date(2026, 3, 30), weeks=2, zone="Australia/Sydney")
    assert [w.date() for w in seen] == [date(2026, 3, 31), date(2026, 4, 6)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekday": 7}, "weekday"),
        ({"duration": timedelta(0)}, "duration"),
        ({"local_time": time(9, tzinfo=UTC)}, "wall-clock"),
    ],
)
def test_invalid_slots_are_refused(kwargs, message):
    fields = {"weekday": 0, "local_time": time(9), "duration": HALF_HOUR, "zone": "UTC"} | kwargs
    with pytest.raises(ValueError, match=message):
        WeeklySlot(**fields)


def test_week_start_is_the_iso_monday():
    assert week_start(date(2026, 3, 8)) == date(2026, 3, 2)
    assert week_start(date(2026, 3, 2)) == date(2026, 3, 2)


# ---------------------------------------------------------------------------- properties

slots = st.builds(
    WeeklySlot,
    weekday=st.integers(0, 6),
    local_time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    duration=st.integers(15, 120).map(lambda m: timedelta(minutes=m)),
    zone=st.sampled_from(ZONES),
)
first_days = st.dates(date(2015, 1, 1), date(2035, 12, 31))
horizons = st.integers(1, 60)


def in_gap(day: date, wall: time, tz: ZoneInfo) -> bool:
    """True when ``wall`` does not exist on ``day`` in ``tz`` (it does not round-trip)."""
    naive = datetime.combine(day, wall)
    return local_instant(day, wall, tz).astimezone(tz).replace(tzinfo=None) != naive


@settings(max_examples=150, deadline=None)
@given(slots, first_days, horizons)
def test_wall_time_is_constant_except_inside_a_gap(slot, first_day, weeks):
    tz = slot.tz
    day = slot.first_on_or_after(first_day)
    for n, wall in enumerate(slot.local_times(first_day, weeks, slot.zone)):
        occurrence_day = day + timedelta(weeks=n)
        if in_gap(occurrence_day, slot.local_time, tz):
            naive = datetime.combine(occurrence_day, slot.local_time)
            # moved forward by the gap: later on the wall, never more than the gap (<= 1 h here)
            moved = wall.replace(tzinfo=None) - naive
            assert timedelta(0) < moved <= timedelta(hours=1)
        else:
            assert (wall.date(), wall.time()) == (occurrence_day, slot.local_time)


@settings(max_examples=150, deadline=None)
@given(slots, first_days, horizons)
def test_occurrences_are_one_week_apart_on_the_slots_weekday(slot, first_day, weeks):
    walls = slot.local_times(first_day, weeks, slot.zone)
    days = [slot.first_on_or_after(first_day) + timedelta(weeks=n) for n in range(weeks)]
    assert timedelta(0) <= days[0] - first_day < timedelta(days=7)
    assert all(d.weekday() == slot.weekday for d in days)
    # none of these zones has a gap that crosses midnight, so the local date is always the day
    assert [w.date() for w in walls] == days
    for earlier, later in itertools.pairwise(w.astimezone(UTC) for w in walls):
        # a week apart in UTC too, give or take the DST shift
        assert abs(later - earlier - timedelta(days=7)) <= timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(slots, first_days, horizons, st.sampled_from(ZONES))
def test_occurrences_are_deterministic_and_rep_times_are_the_same_instants(
    slot, first_day, weeks, rep_zone
):
    occurrences = slot.occurrences(first_day, weeks)
    assert occurrences == slot.occurrences(first_day, weeks)
    assert len(occurrences) == weeks
    rep_walls = slot.local_times(first_day, weeks, rep_zone)
    assert [w.astimezone(UTC) for w in rep_walls] == [o.start for o in occurrences]
    assert all(o.end - o.start == slot.duration for o in occurrences)
