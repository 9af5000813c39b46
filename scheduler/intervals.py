"""Time intervals and busy time: the values availability is made of.

Every instant is an aware ``datetime`` in UTC; local times are derived with ``zoneinfo``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime


def utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused, never guessed."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: pass an aware datetime")
    return instant.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of time [start, end) in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} > {self.end}")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


class BusyKind(enum.StrEnum):
    BUSY = "busy"
    TENTATIVE = "tentative"
    # Out of office: busy, and a week it touches can be excused (PRODUCT.md, outcomes).
    OUT_OF_OFFICE = "ooo"


@dataclass(frozen=True)
class Busy:
    """Busy time in someone's calendar, with what it is when the calendar tells us."""

    interval: Interval
    kind: BusyKind = BusyKind.BUSY
    label: str = ""

    @property
    def start(self) -> datetime:
        return self.interval.start

    @property
    def end(self) -> datetime:
        return self.interval.end


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same time (touching ones joined)."""
    merged: list[Interval] = []
    for current in sorted(intervals):
        if merged and current.start <= merged[-1].end:
            last = merged[-1]
            if current.end > last.end:
                merged[-1] = Interval(last.start, current.end)
        else:
            merged.append(current)
    return merged
