"""A person's time: whether a zone is one Cadence knows, and weekly working hours as stored.

Working hours are stored as JSON, ``{"0": [["09:00", "17:00"]], ...}`` (weekday 0 = Monday),
in the person's own zone; ``WorkingHours`` is the value the slot finder reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.availability import WorkingHours
from scheduler.field_errors import FieldError

Shape = dict[str, list[list[str]]]
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def known_zone(name: str) -> bool:
    """True for an IANA zone name this machine's tz database has (never guess one)."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        return False
    return True


def hours_from_shape(zone: str, shape: Mapping[str, Any] | None) -> WorkingHours:
    """Stored working hours in ``zone``; nothing stored means nine to five, Monday to Friday."""
    if not shape:
        return WorkingHours(zone)
    return WorkingHours(
        zone,
        {
            int(day): tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans)
            for day, spans in shape.items()
        },
    )


def hours_shape(days: Mapping[int, tuple[tuple[time, time], ...]]) -> Shape:
    """Working days as stored: only days with hours, in weekday order."""
    return {
        str(day): [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in spans]
        for day, spans in sorted(days.items())
        if spans
    }


def hours_errors(days: Mapping[int, tuple[time, time]]) -> list[FieldError]:
    """What is wrong with one span per working day (``working_hours[<weekday>]``)."""
    errors = [
        FieldError(f"working_hours[{day}]", "The working day must end after it starts.")
        for day, (start, end) in sorted(days.items())
        if not start < end
    ]
    if not days:
        errors.append(FieldError("working_hours", "Choose at least one working day."))
    return errors


def describe_hours(hours: WorkingHours) -> str:
    """``Mon-Fri 09:00-17:00`` (consecutive days with equal hours run together)."""
    runs: list[tuple[int, int, tuple[tuple[time, time], ...]]] = []
    for day in sorted(hours.days):
        spans = hours.days[day]
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], day, spans)
        else:
            runs.append((day, day, spans))
    parts = []
    for first, last, spans in runs:
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"
        clock = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
        parts.append(f"{days} {clock}")
    return "; ".join(parts) or "no working days"
