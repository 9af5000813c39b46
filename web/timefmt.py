"""Showing instants on the viewer's wall clock, always naming the zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_time(instant: datetime | None, zone: str) -> str:
    """``Mon 26 Oct 2026, 09:00 EST (America/New_York)``; empty for no instant."""
    if instant is None:
        return ""
    here = instant.astimezone(ZoneInfo(zone))
    return f"{here:%a %d %b %Y, %H:%M} {here.tzname()} ({zone})"


def local_clock(instant: datetime, zone: str) -> str:
    """Just the wall-clock time and zone abbreviation: ``09:00 EST``."""
    here = instant.astimezone(ZoneInfo(zone))
    return f"{here:%H:%M} {here.tzname()}"


def local_day(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def weekly(weekday: int, wall: time | str, zone: str) -> str:
    """``Tuesdays at 09:00 (America/New_York)``."""
    shown = wall if isinstance(wall, str) else wall.strftime("%H:%M")
    return f"{WEEKDAYS[weekday]}s at {shown} ({zone})"


def register(app) -> None:  # type: ignore[no-untyped-def]
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_clock, "local_clock")
    app.add_template_global(weekly, "weekly")
    app.add_template_global(WEEKDAYS, "WEEKDAYS")
