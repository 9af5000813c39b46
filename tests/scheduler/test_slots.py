"""The slot finder: rules as tables, the whole ranking against a brute-force oracle."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.availability import PersonAvailability, WorkingHours
from scheduler.intervals import Busy, BusyKind, Interval
from scheduler.recurrence import WeeklySlot
from scheduler.slots import (
    NoCommonWorkingHours,
    PreferredWindow,
    find_weekly_slots,
    find_weekly_slots_between,
)
from scheduler.weekgrid import Horizon, build_calendar_grid

NY, LONDON, SYDNEY, KOLKATA = (
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
)
MONDAY = date(2026, 3, 2)  # both zones on standard time; New York moves on March 8
NY_HOURS = WorkingHours(NY)
LONDON_HOURS = WorkingHours(LONDON)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(NY))


def busy(start: datetime, minutes: int = 30, kind: BusyKind = BusyKind.BUSY) -> Busy:
    return Busy(Interval(start, start + timedelta(minutes=minutes)), kind)


def person(email: str, *blocks: Busy, unknown: tuple[Interval, ...] = ()) -> PersonAvailability:
    return PersonAvailability(email, busy=tuple(blocks), unknown=unknown)


def search(manager, rep, *, weeks=1, manager_hours=NY_HOURS, rep_hours=NY_HOURS, **kwargs):
    horizon = Horizon(NY, MONDAY, weeks=weeks, **kwargs.pop("horizon", {}))
    return find_weekly_slots_between(manager, manager_hours, rep, rep_hours, horizon, **kwargs)


def starts(candidates) -> list[tuple[int, time]]:
    return [(c.slot.weekday, c.slot.local_time) for c in candidates]


# ---------------------------------------------------------------------------- rules


def test_busy_time_of_either_person_moves_the_best_slot():
    manager = person("m@x", busy(ny(MONDAY, 9), 60))
    rep = person("r@x", busy(ny(MONDAY, 10), 15))
    found = search(manager, rep, limit=3)
    assert starts(found) == [(0, time(10, 15)), (0, time(10, 30)), (0, time(10, 45))]
    assert all(c.free_in_every_known_week and c.fully_known for c in found)
    assert found[0].slot == WeeklySlot(0, time(10, 15), timedelta(minutes=30), NY)


def test_fewest_conflicting_weeks_first_and_each_conflict_is_explained():
    hours = WorkingHours(NY, {0: ((time(9), time(10)),)})
    manager = person("m@x", busy(ny(MONDAY, 9)), busy(ny(MONDAY + timedelta(weeks=1), 9)))
    rep = person("r@x", busy(ny(MONDAY + timedelta(weeks=2), 9, 30), kind=BusyKind.OUT_OF_OFFICE))
    found = search(
        manager,
        rep,
        weeks=3,
        manager_hours=hours,
        rep_hours=hours,
        horizon={"step": timedelta(minutes=30)},
    )
    assert starts(found) == [(0, time(9, 30)), (0, time(9))]
    late, early = found
    assert [(w.day, [(c.email, c.busy.kind) for c in w.clashes]) for w in late.conflicts] == [
        (date(2026, 3, 16), [("r@x", BusyKind.OUT_OF_OFFICE)])
    ]
    assert [w.day for w in early.conflicts] == [date(2026, 3, 2), date(2026, 3, 9)]
    assert early.conflicts[0].clashes[0].busy == manager.busy[0]


def test_unknown_time_is_never_free_and_ranks_below_fully_known_slots():
    rep = person("r@x", unknown=(Interval(ny(MONDAY, 0), ny(MONDAY, 23)),))
    found = search(person("m@x"), rep, limit=200)
    known = [c for c in found if c.fully_known]
    unknown = [c for c in found if not c.fully_known]
    assert found == known + unknown
    assert {c.slot.weekday for c in unknown} == {0}
    assert all(c.unknown_days == (MONDAY,) and c.free_in_every_known_week for c in unknown)
    assert starts(known)[0] == (1, time(9))


def test_known_busy_time_wins_over_unknown_in_the_same_week():
    rep = person("r@x", busy(ny(MONDAY, 9)), unknown=(Interval(ny(MONDAY, 9), ny(MONDAY, 17)),))
    found = search(person("m@x"), rep, limit=200)
    monday_nine = next(c for c in found if starts([c]) == [(0, time(9))])
    assert [w.day for w in monday_nine.conflicts] == [MONDAY]
    assert monday_nine.unknown_days == ()


def test_holidays_are_excluded_from_counts_and_reported():
    holiday = MONDAY + timedelta(weeks=1)
    manager = person("m@x", busy(ny(holiday, 9), 8 * 60))  # busy all day on the holiday
    found = search(manager, person("r@x"), weeks=3, holidays={holiday}, limit=1)
    assert starts(found) == [(0, time(9))]
    assert found[0].holiday_days == (holiday,)
    assert found[0].free_in_every_known_week


def test_preferred_window_beats_earlier_slots():
    window = PreferredWindow(weekday=3, start=time(14), end=time(16))
    found = search(person("m@x"), person("r@x"), preferred=[window], limit=8)
    assert [c.slot.local_time for c in found[:7]] == [
        time(14),
        time(14, 15),
        time(14, 30),
        time(14, 45),
        time(15),
        time(15, 15),
        time(15, 30),
    ]
    assert all(c.slot.weekday == 3 and c.in_preferred_window for c in found[:7])
    assert starts(found[7:]) == [(0, time(9))]
    assert not found[7].in_preferred_window


def test_a_slot_back_to_back_with_another_one_on_one_ranks_later():
    booked = WeeklySlot(0, time(9), timedelta(minutes=30), NY)
    manager = person("m@x", busy(ny(MONDAY, 9)))  # the booked 1:1 itself
    found = search(manager, person("r@x"), booked=[booked], limit=200)
    assert starts(found)[0] == (0, time(9, 45))
    # back to back ranks after every other free slot, but before any conflict
    assert starts(found[-3:]) == [(0, time(9, 30)), (0, time(9)), (0, time(9, 15))]
    assert [c.back_to_back for c in found[-3:]] == [True, False, False]
    assert not any(c.back_to_back for c in found[:-3])


def test_slots_lie_inside_both_working_hours_each_in_its_own_zone():
    # London 09-17 is New York 04-12 (both standard) and 05-13 while only New York is on DST
    found = search(person("m@x"), person("r@x"), weeks=4, rep_hours=LONDON_HOURS, limit=200)
    nine_to_half_past_eleven = {time(9 + q // 4, 15 * (q % 4)) for q in range(11)}
    assert {c.slot.local_time for c in found} == nine_to_half_past_eleven
    first = found[0]
    assert [t.strftime("%a %H:%M %Z") for t in first.rep_starts] == [
        "Mon 14:00 GMT",
        "Mon 13:00 GMT",
        "Mon 13:00 GMT",
        "Mon 13:00 GMT",
    ]


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        (1, [(0, time(9)), (0, time(9, 30))]),  # London 14:00-15:00 is New York 09:00-10:00
        (2, None),  # ...and 10:00-11:00 the next week: no time fits both weeks
    ],
)
def test_working_hours_are_checked_week_by_week_across_dst(weeks, expected):
    rep_hours = WorkingHours(LONDON, {0: ((time(14), time(15)),)})
    horizon = {"step": timedelta(minutes=30)}
    args = (person("m@x"), person("r@x"))
    if expected is None:
        with pytest.raises(NoCommonWorkingHours):
            search(*args, weeks=weeks, rep_hours=rep_hours, horizon=horizon)
    else:
        assert starts(search(*args, weeks=weeks, rep_hours=rep_hours, horizon=horizon)) == expected


def test_no_common_working_hours_names_both_people_and_zones():
    with pytest.raises(NoCommonWorkingHours) as error:
        search(person("m@x"), person("r@x"), rep_hours=WorkingHours(SYDNEY))
    message = str(error.value)
    assert all(part in message for part in ("m@x", "r@x", NY, SYDNEY, "Mon 09:00-17:00"))


def test_grids_from_different_horizons_are_refused():
    a = build_calendar_grid(person("m@x"), NY_HOURS, Horizon(NY, MONDAY))
    b = build_calendar_grid(person("r@x"), NY_HOURS, Horizon(NY, MONDAY, weeks=2))
    with pytest.raises(ValueError, match="same horizon"):
        find_weekly_slots(a, b)


def test_one_manager_grid_serves_every_rep():
    horizon = Horizon(NY, MONDAY, weeks=2)
    manager = build_calendar_grid(person("m@x", busy(ny(MONDAY, 9))), NY_HOURS, horizon)
    reps = [
        build_calendar_grid(person(f"r{n}@x", busy(ny(MONDAY, 9, 30), 15 * n)), NY_HOURS, horizon)
        for n in range(1, 4)
    ]
    firsts = [starts(find_weekly_slots(manager, rep, limit=1)) for rep in reps]
    assert firsts == [[(0, time(9, 45))], [(0, time(10))], [(0, time(10, 15))]]


# ---------------------------------------------------------------------------- properties

ZONES = (NY, LONDON, SYDNEY, KOLKATA, "America/Los_Angeles", "Europe/Berlin")
FIRST = date(2026, 3, 4)  # a Wednesday: weeks straddle New York's and London's DST changes


@st.composite
def calendars(draw, weeks: int) -> PersonAvailability:
    def span(longest: int) -> Interval:
        start = datetime.combine(FIRST, time(), tzinfo=UTC) + timedelta(
            minutes=5 * draw(st.integers(-288, 288 * 7 * weeks))
        )
        return Interval(start, start + timedelta(minutes=5 * draw(st.integers(1, longest // 5))))

    count = draw(st.integers(0, 30 * weeks))
    blocks = tuple(Busy(span(240), draw(st.sampled_from(BusyKind))) for _ in range(count))
    unknown = tuple(span(24 * 60) for _ in range(draw(st.integers(0, 2 * weeks))))
    return PersonAvailability(draw(st.emails()), busy=blocks, unknown=unknown)


@st.composite
def hours(draw) -> WorkingHours:
    start = draw(st.integers(0, 12))
    end = draw(st.integers(start + 1, 23))
    days = draw(st.sets(st.integers(0, 6), min_size=3, max_size=7))
    return WorkingHours(
        draw(st.sampled_from(ZONES)), {d: ((time(start), time(end)),) for d in days}
    )


@st.composite
def pairs(draw):
    weeks = draw(st.integers(1, 3))
    horizon = Horizon(
        draw(st.sampled_from(ZONES)),
        FIRST,
        weeks=weeks,
        duration=timedelta(minutes=draw(st.sampled_from((15, 30, 45, 60, 90)))),
        step=timedelta(minutes=30),
    )
    holidays = draw(st.sets(st.dates(FIRST, FIRST + timedelta(weeks=weeks)), max_size=2))
    return (
        draw(calendars(weeks)),
        draw(hours()),
        draw(calendars(weeks)),
        draw(hours()),
        horizon,
        holidays,
    )


def inside(occurrence: Interval, working: WorkingHours) -> bool:
    """Within that day's working hours, compared as instants.

    Two datetimes sharing one tzinfo compare by wall clock, which is wrong across a DST gap:
    a 01:30 half hour on the spring-forward Sunday ends at 03:00 local, the same instant as
    a working day "ending at 02:00" (RFC 5545 reads a time in the gap with the offset before
    it, as zoneinfo does). So both sides are taken to UTC first.
    """
    tz = ZoneInfo(working.zone)
    day = occurrence.start.astimezone(tz).date()

    def at(moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)

    return any(
        at(a) <= occurrence.start and occurrence.end <= at(b)
        for a, b in working.days.get(day.weekday(), ())
    )


def brute_force(manager, manager_hours, rep, rep_hours, horizon, holidays):
    """Every start on the step, judged occurrence by occurrence: {(weekday, time): key}."""
    keys = {}
    step = horizon.step // timedelta(minutes=1)
    for weekday in range(7):
        for minute in range(0, 24 * 60, step):
            slot = WeeklySlot(
                weekday, time(minute // 60, minute % 60), horizon.duration, horizon.zone
            )
            conflicts = unknown = held = 0
            fits = True
            for week in range(horizon.weeks):
                day = horizon.day(week, weekday)
                if day in holidays:
                    continue
                held += 1
                occurrence = slot.occurrence_on(day)
                fits &= inside(occurrence, manager_hours) and inside(occurrence, rep_hours)
                if any(b.interval.overlaps(occurrence) for b in manager.busy + rep.busy):
                    conflicts += 1
                elif any(u.overlaps(occurrence) for u in manager.unknown + rep.unknown):
                    unknown += 1
            if fits and held:
                keys[(weekday, slot.local_time)] = (conflicts, unknown)
    return keys


@settings(max_examples=60, deadline=None)
@given(pairs())
def test_ranking_matches_a_brute_force_search(pair):
    holidays = pair[-1]
    oracle = brute_force(*pair)
    try:
        found = find_weekly_slots_between(*pair[:5], holidays=holidays, limit=8)
    except NoCommonWorkingHours:
        assert not oracle
        return
    expected = sorted(oracle, key=lambda start: (oracle[start], start))[:8]
    assert starts(found) == expected
    for candidate in found:
        assert (len(candidate.conflicts), len(candidate.unknown_days)) == oracle[
            (candidate.slot.weekday, candidate.slot.local_time)
        ]


@settings(max_examples=60, deadline=None)
@given(pairs())
def test_claims_about_each_week_hold_and_the_answer_is_deterministic(pair):
    manager, manager_hours, rep, rep_hours, horizon, holidays = pair
    try:
        found = find_weekly_slots_between(*pair[:5], holidays=holidays, limit=5)
    except NoCommonWorkingHours:
        return
    assert found == find_weekly_slots_between(*pair[:5], holidays=holidays, limit=5)
    tz = ZoneInfo(horizon.zone)
    everyone = {manager.email: manager, rep.email: rep}
    for candidate in found:
        slot = candidate.slot
        conflict_days = {w.day: w for w in candidate.conflicts}
        for week, rep_start in enumerate(candidate.rep_starts):
            day = horizon.day(week, slot.weekday)
            occurrence = slot.occurrence_on(day)
            assert rep_start == occurrence.start and rep_start.tzinfo == ZoneInfo(rep_hours.zone)
            local = occurrence.start.astimezone(tz)
            wall = datetime.combine(day, slot.local_time, tzinfo=tz)
            exists = wall.astimezone(UTC).astimezone(tz).time() == slot.local_time
            # the same wall time every week, unless it falls in a DST gap that week
            assert (local.date(), local.time()) == (day, slot.local_time) or not exists
            if day in candidate.holiday_days:
                continue
            assert inside(occurrence, manager_hours) and inside(occurrence, rep_hours)
            overlapping = {
                (who.email, b)
                for who in (manager, rep)
                for b in who.busy
                if b.interval.overlaps(occurrence)
            }
            if day in conflict_days:
                claimed = {(c.email, c.busy) for c in conflict_days[day].clashes}
                assert claimed == overlapping and claimed
                assert all(c.email in everyone for c in conflict_days[day].clashes)
            else:
                assert not overlapping  # claimed free or unknown: no busy time at all
                unreadable = any(u.overlaps(occurrence) for u in manager.unknown + rep.unknown)
                assert unreadable == (day in candidate.unknown_days)


def test_working_hours_shorter_than_the_meeting_hold_no_start():
    rep_hours = WorkingHours(NY, {0: ((time(9), time(9, 15)),), 1: ((time(9), time(17)),)})
    manager_hours = WorkingHours(NY, {0: ((time(8), time(17)),), 1: ((time(8), time(17)),)})
    found = search(
        person("m@x"),
        person("r@x"),
        manager_hours=manager_hours,
        rep_hours=rep_hours,
        horizon={"duration": timedelta(hours=1)},
        limit=1,
    )
    assert starts(found) == [(1, time(9))]


def test_weekdays_first_offers_the_best_of_each_weekday_then_the_next_best():
    manager = person("m@x", busy(ny(MONDAY + timedelta(days=1), 9), 60))  # Tuesday 9-10
    found = search(manager, person("r@x"), limit=7, weekdays_first=True)
    assert starts(found) == [
        (0, time(9)),
        (1, time(10)),
        (2, time(9)),
        (3, time(9)),
        (4, time(9)),
        (0, time(9, 15)),
        (0, time(9, 30)),
    ]


def test_weekdays_first_never_puts_an_unknown_week_before_a_free_one():
    # The rep's Monday could not be read: Monday's best is a guess, ranked after the others.
    rep = person("r@x", unknown=(Interval(ny(MONDAY, 0), ny(MONDAY, 23)),))
    found = search(person("m@x"), rep, limit=6, weekdays_first=True)
    assert starts(found) == [
        (1, time(9)),
        (2, time(9)),
        (3, time(9)),
        (4, time(9)),
        (1, time(9, 15)),
        (1, time(9, 30)),
    ]
    assert all(c.fully_known for c in found)
    # with room for all, Monday's best guess comes after every slot known to be free
    every = search(person("m@x"), rep, limit=200, weekdays_first=True)
    first_guess = next(i for i, c in enumerate(every) if not c.fully_known)
    assert all(c.fully_known for c in every[:first_guess])
    assert not any(c.fully_known for c in every[first_guess:])
    assert starts(every)[first_guess] == (0, time(9))
