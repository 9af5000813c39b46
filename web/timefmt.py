"""Showing instants on the viewer's wall clock, always naming the zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_time(instant: datetime | None, zone: str) -> str:
    """``Mon 26 Oct 2026, 09:00 EST (America/New_York)``; ``..., 12:00 UTC`` where the
    abbreviation is the zone's name already; empty for no instant."""
    if instant is None:
        return ""
    here = instant.astimezone(ZoneInfo(zone))
    named = "" if here.tzname() == zone else f" ({zone})"
    return f"{here:%a %d %b %Y, %H:%M} {here.tzname()}{named}"


def local_clock(instant: datetime, zone: str) -> str:
    """Just the wall-clock time and zone abbreviation: ``09:00 EST``."""
    here = instant.astimezone(ZoneInfo(zone))
    return f"{here:%H:%M} {here.tzname()}"


def local_day_clock(instant: datetime, zone: str) -> str:
    """The wall-clock time with its day, where the day matters: ``Mon 20:30 PST``."""
    here = instant.astimezone(ZoneInfo(zone))
    return f"{here:%a %H:%M} {here.tzname()}"


def local_weekdays(instant: datetime, zone: str) -> str:
    """The weekday a weekly meeting falls on in ``zone``: ``Mondays``."""
    return f"{WEEKDAYS[instant.astimezone(ZoneInfo(zone)).weekday()]}s"


def hours_minutes(length: timedelta) -> str:
    """``3 h 30 min``, ``4 h``, ``45 min``."""
    hours, minutes = divmod(int(length.total_seconds()) // 60, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def beside(instant: datetime, zone: str, viewer_zone: str) -> str:
    """The same instant on someone else's clock, shown beside the viewer's: ``14:00 GMT``, or
    ``Tue 02:00 IST`` when it falls on another day there than on the viewer's clock."""
    there, here = instant.astimezone(ZoneInfo(zone)), instant.astimezone(ZoneInfo(viewer_zone))
    day = f"{there:%a} " if there.date() != here.date() else ""
    return f"{day}{there:%H:%M} {there.tzname()}"


def local_date(instant: datetime, zone: str) -> str:
    """The day on the viewer's wall clock: ``Mon 02 Nov 2026``."""
    return f"{instant.astimezone(ZoneInfo(zone)):%a %d %b %Y}"


def weekly(weekday: int, wall: time | str, zone: str) -> str:
    """``Tuesdays at 09:00 (America/New_York)``."""
    shown = wall if isinstance(wall, str) else wall.strftime("%H:%M")
    return f"{WEEKDAYS[weekday]}s at {shown} ({zone})"


def wall_clock_changes(starts: Sequence[datetime], zone: str) -> list[tuple[datetime, str]]:
    """(first occurrence, ``HH:MM TZ``) each time the weekly meeting's wall-clock time changes
    in ``zone``: a rep abroad sees it shift for the weeks the two countries' clocks differ."""
    changes: list[tuple[datetime, str]] = []
    for start in starts:
        shown = local_clock(start, zone)
        # Only the wall-clock time counts: 09:00 EDT then 09:00 EST is the same meeting time.
        if not changes or changes[-1][1][:5] != shown[:5]:
            changes.append((start, shown))
    return changes


def register(app) -> None:  # type: ignore[no-untyped-def]
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_clock, "local_clock")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(local_day_clock, "local_day_clock")
    app.add_template_filter(hours_minutes, "hours_minutes")
    app.add_template_filter(local_weekdays, "local_weekdays")
    app.add_template_filter(beside, "beside")
    app.add_template_global(weekly, "weekly")
    app.add_template_global(wall_clock_changes, "wall_clock_changes")
    app.add_template_global(WEEKDAYS, "WEEKDAYS")
