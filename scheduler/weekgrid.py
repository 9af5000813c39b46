"""The organiser's week as a grid of possible start times, and one person's calendar on it.

A position is one possible start: ``weekday * per_day + minute_of_day // step`` on the
organiser's wall clock. For every week of the horizon a person's calendar becomes three
Python ints used as bitsets over positions (busy, unreadable, inside working hours). A grid is
built once per person and shared by every pair that person is in; a pair is then a handful of
integer operations per week.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Busy
from scheduler.recurrence import local_instant

DAY = timedelta(days=1)
T = TypeVar("T", int, time)
HoursKey = tuple[str, tuple[tuple[int, tuple[tuple[time, time], ...]], ...]]


@dataclass(frozen=True)
class Horizon:
    """Which weeks are searched, on whose wall clock, for how long a meeting, on what step.

    Week ``n`` is the seven days from ``first_day + 7n``: a slot's occurrence in it is the
    date in that span that falls on the slot's weekday.
    """

    zone: str
    first_day: date
    weeks: int = 13
    duration: timedelta = timedelta(minutes=30)
    step: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)
        if self.weeks < 1:
            raise ValueError("the horizon needs at least one week")
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        if self.step <= timedelta(0) or DAY % self.step or self.step % timedelta(minutes=1):
            raise ValueError(f"step must be whole minutes dividing a day, not {self.step}")

    @property
    def per_day(self) -> int:
        return DAY // self.step

    @property
    def positions(self) -> int:
        return 7 * self.per_day

    def position(self, weekday: int, wall: time) -> int:
        """The position of a start at ``wall`` on ``weekday`` (rounded down to the step)."""
        minutes = wall.hour * 60 + wall.minute
        return weekday * self.per_day + minutes * 60 // int(self.step.total_seconds())

    def wall_time(self, position: int) -> tuple[int, time]:
        """The weekday and wall-clock time a position stands for."""
        weekday, index = divmod(position, self.per_day)
        minutes = index * int(self.step.total_seconds()) // 60
        return weekday, time(minutes // 60, minutes % 60)

    def day(self, week: int, weekday: int) -> date:
        """The date of ``weekday`` in week ``week``."""
        return self.first_day + timedelta(days=(weekday - self.first_day.weekday()) % 7 + 7 * week)

    def day_mask(self, weekday: int) -> int:
        """Every position on ``weekday``."""
        return ((1 << self.per_day) - 1) << (weekday * self.per_day)


class WeekFrame:
    """The UTC start of every position in every week of a horizon, searchable by instant.

    Positions are not in time order (the week starts on ``first_day``'s weekday and DST gaps
    repeat instants), so each week keeps its starts sorted with prefix bitsets: the positions
    starting in ``[lo, hi)`` are ``prefix[j] ^ prefix[i]`` for the two bisection points.
    """

    def __init__(self, horizon: Horizon) -> None:
        tz = ZoneInfo(horizon.zone)
        self.horizon = horizon
        self.starts: list[list[int]] = []
        self._sorted: list[list[int]] = []
        self._prefix: list[list[int]] = []
        self.days = [
            [horizon.day(week, weekday) for weekday in range(7)] for week in range(horizon.weeks)
        ]
        for week in range(horizon.weeks):
            starts = []
            for position in range(horizon.positions):
                weekday, wall = horizon.wall_time(position)
                starts.append(int(local_instant(self.days[week][weekday], wall, tz).timestamp()))
            order = sorted(range(horizon.positions), key=starts.__getitem__)
            prefix = [0]
            for position in order:
                prefix.append(prefix[-1] | (1 << position))
            self.starts.append(starts)
            self._sorted.append([starts[p] for p in order])
            self._prefix.append(prefix)
        self._firsts = [starts[0] for starts in self._sorted]
        self._lasts = [starts[-1] for starts in self._sorted]

    def starting_in(self, week: int, lo: int, hi: int) -> int:
        """The positions of ``week`` whose start is in ``[lo, hi)`` (epoch seconds)."""
        starts = self._sorted[week]
        prefix = self._prefix[week]
        first, stop = bisect_left(starts, lo), bisect_left(starts, hi)
        # the prefixes are nested, so their difference is the positions in between
        return prefix[stop] ^ prefix[first] if stop > first else 0

    def start(self, week: int, position: int) -> datetime:
        """The UTC instant ``position`` starts in ``week``."""
        return datetime.fromtimestamp(self.starts[week][position], UTC)

    def lay(self, spans: Iterable[tuple[int, int]]) -> list[int]:
        """Per week, the positions whose start is in one of ``spans`` (``[lo, hi)``, seconds)."""
        masks = [0] * self.horizon.weeks
        for lo, hi in _joined(span for span in spans if span[0] < span[1]):
            # weeks follow each other in time: walk back from the last one starting before hi
            week = bisect_left(self._firsts, hi) - 1
            while week >= 0 and self._lasts[week] >= lo:
                masks[week] |= self.starting_in(week, lo, hi)
                week -= 1
        return masks


def positions_in(mask: int, limit: int | None = None) -> list[int]:
    """The positions whose bit is set in ``mask``, ascending; the first ``limit`` if given."""
    found: list[int] = []
    while mask and len(found) != limit:
        lowest = mask & -mask
        found.append(lowest.bit_length() - 1)
        mask ^= lowest
    return found


@lru_cache(maxsize=32)
def week_frame(horizon: Horizon) -> WeekFrame:
    """The frame of ``horizon``; shared by everyone searched on the same organiser's clock."""
    return WeekFrame(horizon)


@dataclass(frozen=True, eq=False)
class CalendarGrid:
    """One person's calendar laid on a horizon's positions, one bitset per week.

    ``busy[w]`` has a bit for each start whose meeting would overlap busy time in week ``w``,
    ``unknown[w]`` the same for time that could not be read, ``workable[w]`` for each start
    whose whole meeting lies inside the person's working hours (in their own zone).
    ``listed`` keeps the busy time in the horizon, by start, to say what a conflict is.
    """

    horizon: Horizon
    email: str
    hours: WorkingHours
    busy: tuple[int, ...]
    unknown: tuple[int, ...]
    workable: tuple[int, ...]
    listed: tuple[Busy, ...]
    listed_starts: tuple[int, ...]
    listed_ends: tuple[int, ...]
    longest: int

    def clashes(self, start: int, end: int) -> list[Busy]:
        """The busy time overlapping ``[start, end)`` (epoch seconds), by start."""
        found = []
        index = bisect_left(self.listed_starts, end) - 1
        # nothing starting before start - longest can reach start
        while index >= 0 and self.listed_starts[index] > start - self.longest:
            if self.listed_ends[index] > start:
                found.append(self.listed[index])
            index -= 1
        found.reverse()
        return found


def _seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def build_calendar_grid(
    availability: PersonAvailability, hours: WorkingHours, horizon: Horizon
) -> CalendarGrid:
    """Lay one person's busy, unreadable time and working hours on ``horizon``'s grid."""
    frame = week_frame(horizon)
    reach = int(horizon.duration.total_seconds())
    listed = sorted(
        ((_seconds(entry.start), _seconds(entry.end), entry) for entry in availability.busy),
        key=lambda item: item[:2],
    )
    # a meeting starting in (lo - duration, hi) overlaps [lo, hi)
    busy = frame.lay((lo - reach + 1, hi) for lo, hi, _ in listed)
    unknown = frame.lay(
        (_seconds(span.start) - reach + 1, _seconds(span.end)) for span in availability.unknown
    )
    return CalendarGrid(
        horizon=horizon,
        email=availability.email,
        hours=hours,
        busy=tuple(busy),
        unknown=tuple(unknown),
        workable=_workable(_hours_key(hours), horizon),
        listed=tuple(entry for _, _, entry in listed),
        listed_starts=tuple(lo for lo, _, _ in listed),
        listed_ends=tuple(hi for _, hi, _ in listed),
        longest=max((hi - lo for lo, hi, _ in listed), default=0),
    )


def _hours_key(hours: WorkingHours) -> HoursKey:
    return hours.zone, tuple(sorted((day, tuple(spans)) for day, spans in hours.days.items()))


@lru_cache(maxsize=256)
def _workable(hours: HoursKey, horizon: Horizon) -> tuple[int, ...]:
    """Per week, the starts whose meeting fits inside the working hours (cached: most people
    share a few patterns)."""
    zone, days = hours
    tz = ZoneInfo(zone)
    spans_by_weekday = dict(days)
    reach = int(horizon.duration.total_seconds())
    starts = []
    # the person's own dates that can overlap the organiser's weeks, a day either side
    for offset in range(-1, 7 * horizon.weeks + 1):
        day = horizon.first_day + timedelta(days=offset)
        for start, end in _joined(spans_by_weekday.get(day.weekday(), ())):
            lo = _seconds(local_instant(day, start, tz))
            starts.append((lo, _seconds(local_instant(day, end, tz)) - reach + 1))
    return tuple(week_frame(horizon).lay(starts))


def _joined(spans: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """The same spans sorted, touching or overlapping ones joined (9-12 + 12-17 is 9-17)."""
    joined: list[tuple[T, T]] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined
