"""What a calendar says about one person: busy time, unreadable time, working hours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from scheduler.intervals import Busy, Interval

_NINE_TO_FIVE = ((time(9), time(17)),)


@dataclass(frozen=True)
class WorkingHours:
    """Weekly working hours in a person's own zone: weekday (0 = Monday) -> [(start, end)]."""

    zone: str
    days: Mapping[int, tuple[tuple[time, time], ...]] = field(
        default_factory=lambda: {day: _NINE_TO_FIVE for day in range(5)}
    )

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)  # an unknown zone fails here, not deep inside the slot finder
        for day, spans in self.days.items():
            if not 0 <= day <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {day}")
            for start, end in spans:
                if not start < end:
                    raise ValueError(f"working hours on day {day} end before they start")


@dataclass(frozen=True)
class PersonAvailability:
    """What a calendar says about one person over a window.

    ``unknown`` spans could not be read (an error for that calendar): never treat them as free.
    ``working_hours`` is what the provider reported, when it did (Graph's getSchedule does).
    """

    email: str
    busy: tuple[Busy, ...] = ()
    unknown: tuple[Interval, ...] = ()
    working_hours: WorkingHours | None = None
