"""Conflicts of a booked series: which coming occurrences collide, and where each could move.

A week here is the ISO week (Monday to Sunday) that keys a 1:1's session, so an alternative
never turns a move into a reschedule to another week.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Interval
from scheduler.recurrence import WeeklySlot, week_start
from scheduler.slots import Clash
from scheduler.weekgrid import (
    CalendarGrid,
    Horizon,
    build_calendar_grid,
    positions_in,
    week_frame,
)


@dataclass(frozen=True)
class OccurrenceConflict:
    """One occurrence that collides with other busy time, and free times to move it to."""

    day: date
    occurrence: Interval
    clashes: tuple[Clash, ...]
    alternatives: tuple[Interval, ...]
    # Whose calendar could not be read at that time (never taken for free): the week is
    # listed even without a clash, so its page can say so.
    unreadable: tuple[str, ...] = ()


def find_conflicts(
    slot: WeeklySlot,
    series_first_day: date,
    manager: PersonAvailability,
    manager_hours: WorkingHours,
    rep: PersonAvailability,
    rep_hours: WorkingHours,
    *,
    from_day: date,
    weeks: int,
    series_label: str = "",
    step: timedelta = timedelta(minutes=15),
    alternatives: int = 3,
) -> list[OccurrenceConflict]:
    """The series' occurrences on days ``from_day`` to ``from_day + 7 * weeks`` (exclusive)
    that overlap busy time of either person, in date order.

    The series' own occurrences are not busy time: entries labelled ``series_label``, or
    exactly as long as an occurrence and at its time, are ignored. Each conflict carries up to
    ``alternatives`` starts in the same week, on or after ``from_day``, free for both (and
    readable), inside both people's working hours: the same day first, nearest the original
    time, then the other days nearest to it.
    """
    monday = week_start(from_day)
    span = (from_day - monday).days + 7 * weeks
    horizon = Horizon(slot.zone, monday, weeks=-(-span // 7), duration=slot.duration, step=step)
    own = set(slot.occurrences(monday, horizon.weeks))
    grids = [
        build_calendar_grid(_without_series(person, own, series_label), hours, horizon)
        for person, hours in ((manager, manager_hours), (rep, rep_hours))
    ]
    frame = week_frame(horizon)
    conflicts = []
    for week in range(horizon.weeks):
        day = frame.days[week][slot.weekday]
        if not (from_day <= day < from_day + timedelta(weeks=weeks) and day >= series_first_day):
            continue
        occurrence = slot.occurrence_on(day)
        start, end = int(occurrence.start.timestamp()), int(occurrence.end.timestamp())
        clashes = tuple(Clash(g.email, busy) for g in grids for busy in g.clashes(start, end))
        at = 1 << horizon.position(slot.weekday, slot.local_time)
        unreadable = tuple(g.email for g in grids if g.unknown[week] & at)
        if clashes or unreadable:
            moves = _alternatives(grids, week, slot, from_day, alternatives) if clashes else ()
            conflicts.append(OccurrenceConflict(day, occurrence, clashes, moves, unreadable))
    return conflicts


def _without_series(
    person: PersonAvailability, own: set[Interval], label: str
) -> PersonAvailability:
    kept = tuple(
        busy
        for busy in person.busy
        if busy.interval not in own and not (label and busy.label == label)
    )
    return replace(person, busy=kept)


def _alternatives(
    grids: list[CalendarGrid], week: int, slot: WeeklySlot, from_day: date, count: int
) -> tuple[Interval, ...]:
    """Up to ``count`` free starts in ``week``: same day first, then the nearest days."""
    horizon = grids[0].horizon
    frame = week_frame(horizon)
    free = -1
    for grid in grids:
        free &= grid.workable[week] & ~grid.busy[week] & ~grid.unknown[week]
    wanted = horizon.position(slot.weekday, slot.local_time) % horizon.per_day
    # same day first (distance 0), then nearer days; earlier day on a tie
    days = sorted(range(7), key=lambda weekday: (abs(weekday - slot.weekday), weekday))
    found: list[Interval] = []
    for weekday in days:
        if frame.days[week][weekday] < from_day:
            continue
        positions = positions_in(free & horizon.day_mask(weekday))
        first = weekday * horizon.per_day
        positions.sort(key=lambda p: (abs(p - first - wanted), p))
        for position in positions[: count - len(found)]:
            start = frame.start(week, position)
            found.append(Interval(start, start + horizon.duration))
        if len(found) == count:
            break
    return tuple(found)
