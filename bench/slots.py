"""How fast the slot finder ranks manager-rep pairs, against a minute-by-minute baseline.

A seeded organisation: ``--managers`` managers with ``--reps`` reps each, a 13-week horizon,
about 30 busy blocks per person-week (a third of them recurring), people in zones of three
regions, a rep always in their manager's region. Each person's calendar grid is built once
(timed apart); the finder then ranks every pair ``--runs`` times and the median run counts.
The organisation is generated and measured in chunks of managers so memory stays flat.

The baseline checks every minute of every candidate start in every week against per-person
sets of busy, unreadable and working minutes (built once, not timed). It is slow, so it runs
on a sample of pairs, and its rankings must equal the finder's.

    python -m bench.slots [--managers 1000] [--runs 5] [--baseline-pairs 20]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time as clock
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Busy, BusyKind, Interval
from scheduler.recurrence import local_instant
from scheduler.slots import NoCommonWorkingHours, find_weekly_slots
from scheduler.weekgrid import CalendarGrid, Horizon, build_calendar_grid

REGIONS = (
    ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    ("Europe/London", "Europe/Berlin", "Europe/Helsinki"),
    ("Asia/Kolkata", "Asia/Singapore", "Australia/Sydney"),
)
FIRST_DAY = date(2026, 3, 2)  # the horizon crosses the US and EU spring DST changes
HOLIDAYS = frozenset({date(2026, 4, 3)})
LENGTHS = (15, 30, 30, 45, 60, 60, 90)
CHUNK = 100


@dataclass
class Person:
    availability: PersonAvailability
    hours: WorkingHours


@dataclass
class Team:
    manager: Person
    reps: list[Person]


def _person(rng: random.Random, email: str, zone: str, weeks: int) -> Person:
    tz = ZoneInfo(zone)
    begin = rng.choice((8, 9, 9, 10))
    hours = WorkingHours(zone, {day: ((time(begin), time(begin + 8)),) for day in range(5)})
    recurring = [(rng.randrange(5), rng.randrange(32, 72), rng.choice(LENGTHS)) for _ in range(10)]
    blocks = []
    for week in range(weeks):
        monday = FIRST_DAY + timedelta(weeks=week)
        midnights = [local_instant(monday + timedelta(days=d), time(), tz) for d in range(5)]
        one_offs = [
            (rng.randrange(5), rng.randrange(32, 72), rng.choice(LENGTHS)) for _ in range(20)
        ]
        for day, quarter, minutes in recurring + one_offs:
            start = midnights[day] + timedelta(minutes=15 * quarter)
            kind = BusyKind.TENTATIVE if rng.random() < 0.1 else BusyKind.BUSY
            blocks.append(Busy(Interval(start, start + timedelta(minutes=minutes)), kind))
    unknown = ()
    if rng.random() < 0.02:  # a calendar that could not be read for one week
        week = datetime.combine(FIRST_DAY + timedelta(weeks=rng.randrange(weeks)), time(), UTC)
        unknown = (Interval(week, week + timedelta(days=7)),)
    return Person(PersonAvailability(email, busy=tuple(blocks), unknown=unknown), hours)


def organisation(seed: int, managers: int, reps: int, weeks: int):
    """Teams, generated lazily and deterministically from ``seed``."""
    rng = random.Random(seed)
    for m in range(managers):
        region = rng.choice(REGIONS)
        manager = _person(rng, f"m{m}@example.com", rng.choice(region), weeks)
        team = [
            _person(rng, f"m{m}r{r}@example.com", rng.choice(region), weeks) for r in range(reps)
        ]
        yield Team(manager, team)


def _horizon(team: Team, weeks: int) -> Horizon:
    return Horizon(team.manager.hours.zone, FIRST_DAY, weeks=weeks)


def _rank(manager: CalendarGrid, rep: CalendarGrid, limit: int):
    try:
        return find_weekly_slots(manager, rep, holidays=HOLIDAYS, limit=limit)
    except NoCommonWorkingHours:
        return []


# ---------------------------------------------------------------------------- baseline


def _minutes(intervals) -> set[int]:
    return {m for i in intervals for m in range(_epoch_minute(i.start), _epoch_minute(i.end))}


def _epoch_minute(instant: datetime) -> int:
    return int(instant.timestamp()) // 60


def _working_minutes(hours: WorkingHours, horizon: Horizon) -> set[int]:
    tz = ZoneInfo(hours.zone)
    minutes = set()
    for offset in range(-1, 7 * horizon.weeks + 1):
        day = horizon.first_day + timedelta(days=offset)
        for start, end in hours.days.get(day.weekday(), ()):
            lo = _epoch_minute(local_instant(day, start, tz))
            minutes.update(range(lo, _epoch_minute(local_instant(day, end, tz))))
    return minutes


def baseline_minutes(person: Person, horizon: Horizon) -> tuple[set[int], set[int], set[int]]:
    """One person's busy, unreadable and working minutes (epoch minutes) over the horizon."""
    availability = person.availability
    return (
        _minutes(b.interval for b in availability.busy),
        _minutes(availability.unknown),
        _working_minutes(person.hours, horizon),
    )


def baseline_rank(people, horizon: Horizon, limit: int) -> list:
    """The finder's ranking, every minute of every candidate in every week checked one by one."""
    tz = ZoneInfo(horizon.zone)
    length = horizon.duration // timedelta(minutes=1)
    step = horizon.step // timedelta(minutes=1)
    keyed = []
    for weekday in range(7):
        for minute_of_day in range(0, 24 * 60, step):
            wall = time(minute_of_day // 60, minute_of_day % 60)
            conflicts = unknown = held = 0
            fits = True
            for week in range(horizon.weeks):
                day = horizon.day(week, weekday)
                if day in HOLIDAYS:
                    continue
                held += 1
                first = _epoch_minute(local_instant(day, wall, tz))
                minutes = range(first, first + length)
                fits = all(m in working for _, _, working in people for m in minutes)
                if not fits:
                    break
                if any(m in busy for busy, _, _ in people for m in minutes):
                    conflicts += 1
                elif any(m in unread for _, unread, _ in people for m in minutes):
                    unknown += 1
            if fits and held:
                keyed.append(((conflicts, unknown), weekday, wall))
    keyed.sort()
    return [(weekday, wall) for _, weekday, wall in keyed[:limit]]


# ---------------------------------------------------------------------------- measuring


@dataclass
class FinderRuns:
    people: int = 0
    pairs: int = 0
    build_seconds: float = 0.0
    # candidates per pair -> seconds of each run over every pair
    run_seconds: dict[int, list[float]] = field(default_factory=dict)
    # (team, rep index, the finder's ranking) for the baseline to check
    sample: list[tuple[Team, int, list]] = field(default_factory=list)


def _starts(candidates) -> list[tuple[int, time]]:
    return [(c.slot.weekday, c.slot.local_time) for c in candidates]


def measure_finder(args: argparse.Namespace) -> FinderRuns:
    """Build every grid once, rank every pair ``args.runs`` times, chunk by chunk."""
    result = FinderRuns(run_seconds={limit: [0.0] * args.runs for limit in args.limits})
    rng = random.Random(args.seed)
    chunks = -(-args.managers // CHUNK)
    per_chunk = -(-args.baseline_pairs // chunks)
    teams = organisation(args.seed, args.managers, args.reps, args.weeks)
    while chunk := [team for _, team in zip(range(CHUNK), teams, strict=False)]:
        started = clock.perf_counter()
        grids = []
        for team in chunk:
            horizon = _horizon(team, args.weeks)
            manager = build_calendar_grid(team.manager.availability, team.manager.hours, horizon)
            reps = [build_calendar_grid(r.availability, r.hours, horizon) for r in team.reps]
            grids.append((manager, reps))
        result.build_seconds += clock.perf_counter() - started
        result.people += len(chunk) * (1 + args.reps)
        result.pairs += len(chunk) * args.reps
        for run in range(args.runs):
            for limit, seconds in result.run_seconds.items():
                started = clock.perf_counter()
                for manager, reps in grids:
                    for rep in reps:
                        _rank(manager, rep, limit)
                seconds[run] += clock.perf_counter() - started
        for _ in range(per_chunk):
            index, rep_index = rng.randrange(len(chunk)), rng.randrange(args.reps)
            manager, reps = grids[index]
            found = _starts(_rank(manager, reps[rep_index], max(args.limits)))
            result.sample.append((chunk[index], rep_index, found))
        del grids, chunk
        gc.collect()
    return result


def measure_memory(args: argparse.Namespace) -> int:
    """Peak bytes allocated while ranking one team's pairs (grids built beforehand)."""
    team = next(organisation(args.seed, 1, args.reps, args.weeks))
    horizon = _horizon(team, args.weeks)
    manager = build_calendar_grid(team.manager.availability, team.manager.hours, horizon)
    reps = [build_calendar_grid(r.availability, r.hours, horizon) for r in team.reps]
    tracemalloc.start()
    for rep in reps:
        _rank(manager, rep, max(args.limits))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def measure_baseline(args: argparse.Namespace, sample) -> tuple[float, int]:
    """Seconds the baseline spends ranking the sampled pairs, and how many agree."""
    seconds, agree = 0.0, 0
    for team, rep_index, found in sample:
        horizon = _horizon(team, args.weeks)
        people = [baseline_minutes(p, horizon) for p in (team.manager, team.reps[rep_index])]
        started = clock.perf_counter()
        expected = baseline_rank(people, horizon, max(args.limits))
        seconds += clock.perf_counter() - started
        agree += expected == found
    return seconds, agree


def report(args: argparse.Namespace) -> None:
    finder = measure_finder(args)
    print(
        f"organisation: {args.managers} managers x {args.reps} reps = {finder.pairs} pairs, "
        f"{finder.people} people, {args.weeks} weeks, ~30 busy blocks per person-week"
    )
    print(
        f"grid build: {finder.build_seconds:.2f} s for {finder.people} people "
        f"({finder.people / finder.build_seconds:,.0f} people/s, each built once)"
    )
    for limit, run_seconds in finder.run_seconds.items():
        seconds = statistics.median(run_seconds)
        runs = ", ".join(f"{run:.3f}" for run in run_seconds)
        print(
            f"finder, {limit} candidate(s) per pair: {finder.pairs / seconds:,.0f} pairs/s, "
            f"median of {args.runs} runs over {finder.pairs} pairs ({seconds:.3f} s; runs {runs})"
        )
    finder_seconds = statistics.median(finder.run_seconds[max(args.limits)])
    finder_rate = finder.pairs / finder_seconds
    end_to_end = finder.pairs / (finder_seconds + finder.build_seconds)
    print(
        f"end to end with {max(args.limits)} candidates (every grid built once, then every pair "
        f"ranked): {end_to_end:,.0f} pairs/s"
    )
    peak = measure_memory(args)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"memory: ranking one team's {args.reps} pairs peaks at {peak / 1024:.0f} KiB "
        f"(tracemalloc); process peak RSS {rss_mb:.0f} MiB (generated calendars and grids, "
        f"{CHUNK} managers at a time)"
    )
    sample = finder.sample[: args.baseline_pairs]
    seconds, agree = measure_baseline(args, sample)
    baseline_rate = len(sample) / seconds
    print(
        f"baseline (minute by minute, {len(sample)} sampled pairs, top {max(args.limits)}): "
        f"{baseline_rate:,.1f} pairs/s; rankings equal to the finder's: {agree}/{len(sample)}"
    )
    print(f"speed-up over the baseline: {finder_rate / baseline_rate:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--limits", type=int, nargs="+", default=[1, 3], help="candidates returned per pair"
    )
    parser.add_argument("--baseline-pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20260302)
    report(parser.parse_args())


if __name__ == "__main__":
    main()
