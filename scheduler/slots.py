"""The slot finder: the best weekly 1:1 slots for a manager and a rep over a horizon.

Ranking, best first:
1. free for both in every readable, non-holiday week; then fewest weeks with a conflict;
2. fewest weeks whose calendar could not be read (unknown is never counted as free);
3. inside one of the manager's preferred windows;
4. not back to back with another of the manager's 1:1s;
5. earliest in the week, then in the day (a deterministic tie-break).

Every candidate lies inside both people's working hours, each in their own zone, in every
week it is held. Each person's calendar is laid on a ``CalendarGrid`` once
(``build_calendar_grid``); ranking a pair is bit arithmetic over the two grids.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache, reduce
from zoneinfo import ZoneInfo

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Busy
from scheduler.recurrence import WeeklySlot
from scheduler.weekgrid import (
    CalendarGrid,
    Horizon,
    build_calendar_grid,
    positions_in,
    week_frame,
)


class NoCommonWorkingHours(ValueError):
    """The two people's working hours never overlap long enough for the meeting; it keeps
    both people's hours and the horizon so a page can show why (``scheduler.hours_gap``)."""

    def __init__(self, message: str, manager: WorkingHours, rep: WorkingHours, horizon: Horizon):
        super().__init__(message)
        self.manager, self.rep, self.horizon = manager, rep, horizon


@dataclass(frozen=True)
class PreferredWindow:
    """When the manager would rather meet: ``weekday`` (0 = Monday), [start, end) on the
    organiser's wall clock."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Clash:
    """Busy time of one person that an occurrence would overlap."""

    email: str
    busy: Busy


@dataclass(frozen=True)
class WeekConflict:
    """An occurrence (on ``day``, organiser's date) that collides with busy time."""

    day: date
    clashes: tuple[Clash, ...]


@dataclass(frozen=True)
class SlotCandidate:
    """A proposed weekly slot and what the horizon's weeks say about it.

    ``unknown_days`` are occurrences where a calendar could not be read: not free, not
    conflicting. ``holiday_days`` are organisation holidays, excluded from every count.
    ``rep_starts`` is each occurrence's start on the rep's wall clock, holidays included.
    """

    slot: WeeklySlot
    conflicts: tuple[WeekConflict, ...]
    unknown_days: tuple[date, ...]
    holiday_days: tuple[date, ...]
    rep_starts: tuple[datetime, ...]
    in_preferred_window: bool
    back_to_back: bool

    @property
    def free_in_every_known_week(self) -> bool:
        return not self.conflicts

    @property
    def fully_known(self) -> bool:
        return not self.unknown_days


def find_weekly_slots(
    manager: CalendarGrid,
    rep: CalendarGrid,
    *,
    holidays: Collection[date] = frozenset(),
    preferred: Sequence[PreferredWindow] = (),
    booked: Sequence[WeeklySlot] = (),
    limit: int = 5,
    weekdays_first: bool = False,
) -> list[SlotCandidate]:
    """Up to ``limit`` slots for ``manager`` and ``rep``, best first (see the module's ranking).

    With ``weekdays_first`` the best slot of each weekday comes first (in ranking order), then
    the next best, so the choice spans the week; still, no candidate with a conflicting or
    unreadable week comes before one free in every week.

    Raises ``NoCommonWorkingHours`` when no start lies inside both people's working hours in
    every week it is held (holidays aside). The result is a pure function of its arguments.
    """
    horizon = manager.horizon
    if rep.horizon != horizon:
        raise ValueError("both grids must be built on the same horizon")
    off = _holiday_masks(horizon, frozenset(holidays))
    inside = -1
    always_off = -1
    for week in range(horizon.weeks):
        inside &= (manager.workable[week] & rep.workable[week]) | off[week]
        always_off &= off[week]
    # a start held in no week at all (a holiday every time) is no candidate either
    candidates = inside & ~always_off & ((1 << horizon.positions) - 1)
    if not candidates:
        raise NoCommonWorkingHours(
            _no_overlap_message(manager, rep), manager.hours, rep.hours, horizon
        )
    pair = _PairWeeks(manager, rep, off, preferred, booked)
    if weekdays_first:
        chosen = _weekdays_first(candidates, pair, limit)
    else:
        chosen = _lowest_keys(candidates, pair.planes, limit)
    return [pair.candidate(position) for position in chosen]


def find_weekly_slots_between(
    manager: PersonAvailability,
    manager_hours: WorkingHours,
    rep: PersonAvailability,
    rep_hours: WorkingHours,
    horizon: Horizon,
    *,
    holidays: Collection[date] = frozenset(),
    preferred: Sequence[PreferredWindow] = (),
    booked: Sequence[WeeklySlot] = (),
    limit: int = 5,
    weekdays_first: bool = False,
) -> list[SlotCandidate]:
    """``find_weekly_slots`` for one pair, straight from what the calendars said."""
    return find_weekly_slots(
        build_calendar_grid(manager, manager_hours, horizon),
        build_calendar_grid(rep, rep_hours, horizon),
        holidays=holidays,
        preferred=preferred,
        booked=booked,
        limit=limit,
        weekdays_first=weekdays_first,
    )


def _bit_sliced_count(masks: Iterable[int]) -> list[int]:
    """Per position, how many ``masks`` have its bit set, as binary digit planes (LSB first)."""
    planes: list[int] = []
    for mask in masks:
        carry = mask
        for digit in range(len(planes)):
            if not carry:
                break
            planes[digit], carry = planes[digit] ^ carry, planes[digit] & carry
        if carry:
            planes.append(carry)
    return planes


def _lowest_keys(candidates: int, planes: list[int], limit: int) -> list[int]:
    """Up to ``limit`` candidate positions in ascending order of the key whose binary digits
    (most significant first) are ``planes``; equal keys in ascending position."""
    chosen: list[int] = []
    while candidates and len(chosen) < limit:
        tier = candidates
        for plane in planes:
            # keep the positions with a 0 in this digit, when there are any
            zero = tier & ~plane
            if zero:
                tier = zero
        candidates &= ~tier
        chosen += positions_in(tier, limit - len(chosen))
    return chosen


def _weekdays_first(candidates: int, pair: _PairWeeks, limit: int) -> list[int]:
    """The best start of each weekday, then the next best: first among the starts free in
    every week, then among the others."""
    horizon, planes = pair.manager.horizon, pair.planes
    chosen: list[int] = []
    for tier in (candidates & pair.clean, candidates & ~pair.clean):
        bests = 0
        for weekday in range(7):
            for position in _lowest_keys(tier & horizon.day_mask(weekday), planes, 1):
                bests |= 1 << position
        chosen += _lowest_keys(bests, planes, limit - len(chosen))
        chosen += _lowest_keys(tier & ~bests, planes, limit - len(chosen))
    return chosen


class _PairWeeks:
    """What one pair's weeks say about every position, as bitsets (holidays left out)."""

    def __init__(
        self,
        manager: CalendarGrid,
        rep: CalendarGrid,
        off: tuple[int, ...],
        preferred: Sequence[PreferredWindow],
        booked: Sequence[WeeklySlot],
    ) -> None:
        self.manager, self.rep, self.off = manager, rep, off
        self.reach = int(manager.horizon.duration.total_seconds())
        self.conflicted: list[int] = []
        self.unreadable: list[int] = []
        for week, holiday in enumerate(off):
            busy = (manager.busy[week] | rep.busy[week]) & ~holiday
            self.conflicted.append(busy)
            self.unreadable.append((manager.unknown[week] | rep.unknown[week]) & ~busy & ~holiday)
        # free in every week: no conflict, nothing unreadable (holidays aside)
        self.clean = ~reduce(operator.or_, self.conflicted + self.unreadable, 0)
        horizon = manager.horizon
        self.preferred = _preferred_mask(horizon, tuple(preferred)) if preferred else 0
        self.adjacent = _adjacent_mask(horizon, booked)
        # the ranking key's binary digits, most significant first
        self.planes = [
            *reversed(_bit_sliced_count(self.conflicted)),
            *reversed(_bit_sliced_count(self.unreadable)),
            ~self.preferred if preferred else 0,
            self.adjacent,
        ]

    def candidate(self, position: int) -> SlotCandidate:
        """The candidate starting at ``position``, with its week-by-week findings."""
        horizon = self.manager.horizon
        frame = week_frame(horizon)
        weekday, wall = horizon.wall_time(position)
        bit = 1 << position
        weeks = range(horizon.weeks)
        starts = [frame.starts[week][position] for week in weeks]
        days = [frame.days[week][weekday] for week in weeks]
        rep_tz = ZoneInfo(self.rep.hours.zone)
        return SlotCandidate(
            slot=WeeklySlot(weekday, wall, horizon.duration, horizon.zone),
            conflicts=tuple(
                WeekConflict(days[week], self._clashes(starts[week]))
                for week in weeks
                if self.conflicted[week] & bit
            ),
            unknown_days=tuple(days[week] for week in weeks if self.unreadable[week] & bit),
            holiday_days=tuple(days[week] for week in weeks if self.off[week] & bit),
            rep_starts=tuple(datetime.fromtimestamp(start, rep_tz) for start in starts),
            in_preferred_window=bool(self.preferred & bit),
            back_to_back=bool(self.adjacent & bit),
        )

    def _clashes(self, start: int) -> tuple[Clash, ...]:
        manager, rep, end = self.manager, self.rep, start + self.reach
        found = [Clash(manager.email, busy) for busy in manager.clashes(start, end)]
        found += [Clash(rep.email, busy) for busy in rep.clashes(start, end)]
        return tuple(found)


@lru_cache(maxsize=64)
def _holiday_masks(horizon: Horizon, holidays: frozenset[date]) -> tuple[int, ...]:
    """Per week, the positions whose date is an organisation holiday."""
    days = week_frame(horizon).days
    return tuple(
        sum(horizon.day_mask(weekday) for weekday in range(7) if days[week][weekday] in holidays)
        for week in range(horizon.weeks)
    )


@lru_cache(maxsize=256)
def _preferred_mask(horizon: Horizon, windows: tuple[PreferredWindow, ...]) -> int:
    """Positions whose whole meeting lies inside one of ``windows`` on the organiser's clock."""
    step = int(horizon.step.total_seconds() // 60)
    length = int(horizon.duration.total_seconds() // 60)
    mask = 0
    for window in windows:
        first = _minutes(window.start)
        last = _minutes(window.end) - length
        for minute in range(first + (-first) % step, last + 1, step):
            mask |= 1 << (window.weekday * horizon.per_day + minute // step)
    return mask


def _adjacent_mask(horizon: Horizon, booked: Sequence[WeeklySlot]) -> int:
    """Positions that would start as another 1:1 ends, or end as one starts.

    Judged on the organiser's wall clock in the first week of the horizon.
    """
    tz = ZoneInfo(horizon.zone)
    mask = 0
    for slot in booked:
        occurrence = slot.occurrence_on(slot.first_on_or_after(horizon.first_day))
        for instant in (occurrence.end, occurrence.start - horizon.duration):
            local = instant.astimezone(tz)
            if _minutes(local.time()) % (horizon.step // timedelta(minutes=1)) == 0:
                mask |= 1 << horizon.position(local.weekday(), local.time())
    return mask


def _minutes(wall: time) -> int:
    return wall.hour * 60 + wall.minute


def _describe(hours: WorkingHours) -> str:
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    days = ", ".join(
        f"{names[day]} " + " ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in spans)
        for day, spans in sorted(hours.days.items())
    )
    return f"{hours.zone} ({days or 'no working hours'})"


def _no_overlap_message(manager: CalendarGrid, rep: CalendarGrid) -> str:
    return (
        f"no {manager.horizon.duration // timedelta(minutes=1)}-minute meeting fits inside the "
        "working hours of both "
        f"{manager.email}, {_describe(manager.hours)}, and {rep.email}, {_describe(rep.hours)}, "
        "in every week"
    )
