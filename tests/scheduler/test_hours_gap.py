"""Why two working days hold no meeting, and the smallest change that would."""

from datetime import date, time, timedelta

from scheduler.availability import WorkingHours
from scheduler.hours_gap import MANAGER, REP, explain_gap

MONDAY = date(2026, 3, 2)
WEEKDAYS = range(5)


def hours(zone: str, start: time, end: time) -> WorkingHours:
    return WorkingHours(zone, {day: ((start, end),) for day in WEEKDAYS})


def test_no_overlap_at_all_offers_each_person_the_smallest_widening():
    la = hours("America/Los_Angeles", time(8), time(17))
    kolkata = hours("Asia/Kolkata", time(10), time(18))
    gap = explain_gap(la, kolkata, first_day=MONDAY, weeks=1, duration=timedelta(minutes=30))
    assert gap.longest_shared == timedelta(0)
    assert gap.day == MONDAY
    # PST is UTC-8: Kolkata's day ends 12:30 UTC, Los Angeles' begins 16:00 UTC
    assert [(w.who, w.by, w.earlier) for w in gap.widen] == [
        (MANAGER, timedelta(hours=4), True),
        (REP, timedelta(hours=4), False),
    ]
    assert len(gap.manager_spans) == 1 and len(gap.rep_spans) == 2


def test_the_tightest_week_is_explained_across_a_clock_change():
    ny = hours("America/New_York", time(9), time(17))
    london = hours("Europe/London", time(9), time(14, 20))
    # New York moves on 8 March, London on 29 March: 4 h apart, then 5 h from 30 March
    gap = explain_gap(
        ny, london, first_day=date(2026, 3, 16), weeks=3, duration=timedelta(minutes=30)
    )
    assert gap.longest_shared == timedelta(minutes=20)
    assert gap.day == date(2026, 3, 30)
    assert [(w.who, w.by) for w in gap.widen] == [
        (MANAGER, timedelta(minutes=10)),
        (REP, timedelta(minutes=10)),
    ]


def test_overlapping_days_need_no_widening():
    ny = hours("America/New_York", time(9), time(17))
    gap = explain_gap(ny, ny, first_day=MONDAY, weeks=1, duration=timedelta(minutes=30))
    assert gap.longest_shared == timedelta(hours=8) and gap.widen == ()
