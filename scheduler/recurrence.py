"""The weekly slot: same weekday and local time every week, in the organiser's zone.

Occurrences follow RFC 5545 for local times that DST makes odd: a time that does not exist
(spring forward) moves forward by the length of the gap; an ambiguous time (fall back) takes
the first instant (``fold=0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.intervals import Interval

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class WeeklySlot:
    """A standing weekly meeting: ``weekday`` 0 = Monday, ``local_time`` in ``zone``."""

    weekday: int
    local_time: time
    duration: timedelta
    zone: str

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        if self.local_time.tzinfo is not None:
            raise ValueError("local_time is a wall-clock time: give it no tzinfo")
        ZoneInfo(self.zone)  # raises ZoneInfoNotFoundError for an unknown zone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def rrule_day(self) -> str:
        return WEEKDAYS[self.weekday]

    def first_on_or_after(self, day: date) -> date:
        """The first date on or after ``day`` that falls on this slot's weekday."""
        return day + timedelta(days=(self.weekday - day.weekday()) % 7)

    def start_on(self, day: date) -> datetime:
        """The UTC instant this slot starts on ``day`` (a date on its weekday)."""
        return local_instant(day, self.local_time, self.tz)

    def occurrence_on(self, day: date) -> Interval:
        start = self.start_on(day)
        return Interval(start, start + self.duration)

    def occurrences(self, first_day: date, weeks: int) -> list[Interval]:
        """The next ``weeks`` occurrences, starting with the first on or after ``first_day``."""
        day = self.first_on_or_after(first_day)
        return [self.occurrence_on(day + timedelta(weeks=n)) for n in range(weeks)]

    def local_times(self, first_day: date, weeks: int, zone: str) -> list[datetime]:
        """When each of the next ``weeks`` occurrences starts on a wall clock in ``zone``.

        The rep sees these: the same instants as ``occurrences``, so they may shift by an hour
        in weeks where the two zones change DST on different dates.
        """
        tz = ZoneInfo(zone)
        return [
            occurrence.start.astimezone(tz) for occurrence in self.occurrences(first_day, weeks)
        ]


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``wall`` on ``day`` in ``tz``, per RFC 5545 for DST gaps."""
    # fold=0 gives the first instant of an ambiguous time; for a time inside a spring-forward
    # gap it applies the offset from before the gap, which is exactly "moved forward by the
    # length of the gap" (RFC 5545 3.3.5): 02:30 on a 02:00->03:00 day becomes 03:30.
    return datetime.combine(day, wall, tzinfo=tz).replace(fold=0).astimezone(UTC)


def week_start(day: date) -> date:
    """The Monday of the ISO week ``day`` is in: the key of a 1:1's week."""
    return day - timedelta(days=day.weekday())
