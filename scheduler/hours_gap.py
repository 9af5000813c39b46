"""Why two people's working hours hold no weekly meeting, and what would make one fit.

When the slot finder finds no start inside both people's working hours
(``NoCommonWorkingHours``), the page draws both people's hours on one day of the organiser's
clock and offers the two ways out: one person working a little earlier or later, or a shorter
meeting. Everything is computed on the tightest week of the horizon (clock changes can make
one week tighter than another), in UTC instants, and shown in each person's own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.availability import WorkingHours
from scheduler.intervals import Interval
from scheduler.recurrence import local_instant

MANAGER, REP = "manager", "rep"
ZERO = timedelta(0)


@dataclass(frozen=True)
class WiderHours:
    """``who`` starting at ``instant`` (``earlier``) or working until it on one day would
    fit the meeting; ``by`` is how much longer that working day becomes."""

    who: str
    instant: datetime
    by: timedelta
    earlier: bool


@dataclass(frozen=True)
class HoursGap:
    """Both people's working spans that reach into the organiser's ``day`` (UTC), the longest
    stretch they share in the tightest week, and the smallest widening for each person."""

    day: date
    day_span: Interval
    manager_spans: tuple[Interval, ...]
    rep_spans: tuple[Interval, ...]
    longest_shared: timedelta
    widen: tuple[WiderHours, ...]


def explain_gap(
    manager: WorkingHours,
    rep: WorkingHours,
    *,
    first_day: date,
    weeks: int,
    duration: timedelta,
) -> HoursGap:
    """What the page shows when no ``duration`` meeting fits both people's hours every week."""
    weeks_seen = [
        _week_gap(manager, rep, first_day + timedelta(weeks=week), duration)
        for week in range(weeks)
    ]
    # The week that shares least, and of those the one needing the widest change: what
    # works there works in every week.
    return min(
        weeks_seen,
        key=lambda gap: (gap.longest_shared, -max((w.by for w in gap.widen), default=ZERO)),
    )


def _week_gap(
    manager: WorkingHours, rep: WorkingHours, first_day: date, duration: timedelta
) -> HoursGap:
    manager_week, rep_week = _spans(manager, first_day), _spans(rep, first_day, reach=1)
    day = _drawn_day(manager, first_day)
    zone = ZoneInfo(manager.zone)
    day_span = Interval(
        local_instant(day, time(0), zone), local_instant(day + timedelta(days=1), time(0), zone)
    )
    # Nearest the drawn day first, so that of equal changes the one on that day is offered.
    manager_week.sort(key=lambda span: abs(span.start - day_span.start))
    return HoursGap(
        day=day,
        day_span=day_span,
        manager_spans=_touching(manager_week, day_span),
        rep_spans=_touching(rep_week, day_span),
        longest_shared=_longest_shared(manager_week, rep_week),
        widen=_widenings(manager_week, rep_week, duration),
    )


def _spans(hours: WorkingHours, first_day: date, *, reach: int = 0) -> list[Interval]:
    """The person's working spans as UTC intervals over the week from ``first_day``, and
    ``reach`` days either side (the other person's zone may reach into them)."""
    zone = ZoneInfo(hours.zone)
    spans = []
    for offset in range(-reach, 7 + reach):
        day = first_day + timedelta(days=offset)
        for start, end in hours.days.get(day.weekday(), ()):
            spans.append(Interval(local_instant(day, start, zone), local_instant(day, end, zone)))
    return spans


def _longest_shared(ours: list[Interval], theirs: list[Interval]) -> timedelta:
    longest = ZERO
    for a in ours:
        for b in theirs:
            longest = max(longest, min(a.end, b.end) - max(a.start, b.start))
    return longest


def _drawn_day(manager: WorkingHours, first_day: date) -> date:
    """The manager's first working day of the week (the drawing shows that day)."""
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        if manager.days.get(day.weekday()):
            return day
    return first_day


def _touching(spans: list[Interval], window: Interval) -> tuple[Interval, ...]:
    """The spans that reach into ``window``, whole (a drawing clips them, a label does not)."""
    return tuple(sorted((span for span in spans if span.overlaps(window)), key=_start))


def _start(span: Interval) -> datetime:
    return span.start


def _widenings(
    manager: list[Interval], rep: list[Interval], duration: timedelta
) -> tuple[WiderHours, ...]:
    """The smallest change of one person's day that makes ``duration`` fit, for each person.

    For a pair of spans, the earlier one's owner could work until the later one starts plus
    the meeting, or the later one's owner could start the meeting's length before the earlier
    one ends. Only pairs less than a day apart count (nobody is asked to swap night for day).
    """
    options: dict[str, WiderHours] = {}

    def offer(who: str, instant: datetime, by: timedelta, earlier: bool) -> None:
        if ZERO < by < timedelta(hours=12):
            current = options.get(who)
            if current is None or by < current.by:
                options[who] = WiderHours(who, instant, by, earlier)

    for m in manager:
        for r in rep:
            for (first, first_who), (second, second_who) in (
                ((m, MANAGER), (r, REP)),
                ((r, REP), (m, MANAGER)),
            ):
                if first.start > second.start or second.end - second.start < duration:
                    continue
                if first.end - first.start < duration:
                    continue
                # the first person works on until the meeting fits after the second begins
                later_end = second.start + duration
                offer(first_who, later_end, later_end - first.end, earlier=False)
                # or the second person starts early enough to meet before the first stops
                early_start = first.end - duration
                offer(second_who, early_start, second.start - early_start, earlier=True)
    return tuple(options[who] for who in (MANAGER, REP) if who in options)
