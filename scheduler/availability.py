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


@dataclass(frozen=True)
class BusyChange:
    """How one person's calendar changed between two reads of the same window.

    ``added`` is busy time the new read has and the old one had not (where a new conflict
    can come from); ``newly_unknown`` is time that was readable and no longer is.
    """

    email: str
    added: tuple[Busy, ...] = ()
    removed: tuple[Busy, ...] = ()
    newly_unknown: tuple[Interval, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.newly_unknown)


def busy_change(old: PersonAvailability | None, new: PersonAvailability) -> BusyChange:
    """What changed from ``old`` (``None``: never read, so everything is new) to ``new``."""
    before = set(old.busy) if old else set()
    after = set(new.busy)
    unknown_before = set(old.unknown) if old else set()
    return BusyChange(
        new.email,
        added=tuple(sorted((b for b in new.busy if b not in before), key=_start)),
        removed=tuple(sorted((b for b in before if b not in after), key=_start)),
        newly_unknown=tuple(sorted(u for u in set(new.unknown) if u not in unknown_before)),
    )


def _start(busy: Busy) -> tuple[Interval, str]:
    return busy.interval, busy.label
