"""The no-common-hours explanation as the slots page draws it: one day of the manager's
clock, each person's working time as a bar on it, and the ways out in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.hours_gap import MANAGER, HoursGap, WiderHours, explain_gap
from scheduler.intervals import Interval
from scheduler.models import Person
from scheduler.slots import NoCommonWorkingHours
from scheduler.working_time import describe_hours

# Shorter meetings the page offers; the slot grid moves in 15-minute steps.
SHORTEST_OFFERED = timedelta(minutes=15)


@dataclass(frozen=True)
class Bar:
    """A working span on the drawn day: where it sits (percent of the day) and its edges."""

    left: float
    width: float
    span: Interval


@dataclass(frozen=True)
class PersonRow:
    label: str
    css: str  # the bars' class: "you" or "them"
    zone: str
    hours: str  # the person's weekly hours in their own zone, in words
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class GapView:
    gap: HoursGap
    minutes: int
    rows: tuple[PersonRow, PersonRow]
    widen: tuple[tuple[WiderHours, Person], ...]
    shorter_minutes: int  # a meeting this long fits (0: none does)


def gap_view(error: NoCommonWorkingHours, manager: Person, rep: Person) -> GapView:
    horizon = error.horizon
    gap = explain_gap(
        error.manager,
        error.rep,
        first_day=horizon.first_day,
        weeks=horizon.weeks,
        duration=horizon.duration,
    )
    step = SHORTEST_OFFERED
    shorter = gap.longest_shared // step * step
    return GapView(
        gap=gap,
        minutes=horizon.duration // timedelta(minutes=1),
        rows=(
            PersonRow("You", "you", manager.zone, describe_hours(error.manager), _bars(gap, True)),
            PersonRow(
                rep.name or rep.email,
                "them",
                rep.zone,
                describe_hours(error.rep),
                _bars(gap, False),
            ),
        ),
        widen=tuple((w, manager if w.who == MANAGER else rep) for w in gap.widen),
        shorter_minutes=shorter // timedelta(minutes=1) if shorter >= step else 0,
    )


def _bars(gap: HoursGap, manager: bool) -> tuple[Bar, ...]:
    day = gap.day_span
    length = (day.end - day.start).total_seconds()

    def at(instant: datetime) -> float:
        return round(100 * (instant - day.start).total_seconds() / length, 2)

    bars = []
    for span in gap.manager_spans if manager else gap.rep_spans:
        start, end = max(span.start, day.start), min(span.end, day.end)
        bars.append(Bar(at(start), round(at(end) - at(start), 2), span))
    return tuple(bars)
