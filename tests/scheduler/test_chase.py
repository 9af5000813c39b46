from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.chase import (
    ChaseFacts,
    NudgeKind,
    due_nudge,
    due_this_week,
    grace_ends_at,
    items_mail_week,
    took_place,
)
from scheduler.intervals import Interval
from scheduler.outcomes import SessionFacts

NUDGE, REMINDER = NudgeKind.NUDGE, NudgeKind.REMINDER
GRACE = timedelta(hours=48)


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# Tuesday 10 March 2026, 13:00-13:30 UTC; half the grace period is Wednesday 13:30.
SCHEDULED = Interval(at(10, 13), at(10, 13, 30))
MOVED = Interval(at(11, 15), at(11, 15, 30))  # to Wednesday 15:00
BASE = SessionFacts(scheduled=SCHEDULED, organiser_zone="America/New_York")


def week(sent=(), has_debrief=False, **changes):
    return ChaseFacts(session=replace(BASE, **changes), has_debrief=has_debrief, sent=sent)


@pytest.mark.parametrize(
    ("case", "now", "expected"),
    [
        # nothing before the 1:1 is over
        (week(), at(10, 13, 15), None),
        (week(), at(10, 13, 29), None),
        # the nudge from the end until half the grace period
        (week(), at(10, 13, 30), NUDGE),
        (week(), at(11, 13, 29), NUDGE),
        (week(sent={NUDGE}), at(11, 9), None),
        # one reminder from half the grace period until its end
        (week(sent={NUDGE}), at(11, 13, 30), REMINDER),
        (week(sent={NUDGE}), at(12, 13, 29), REMINDER),
        (week(sent={NUDGE, REMINDER}), at(11, 18), None),
        # a nudge never sent in time is not sent late: only the reminder is still due
        (week(), at(11, 14), REMINDER),
        # none after the grace period
        (week(), at(12, 13, 30), None),
        (week(sent={NUDGE}), at(20, 0), None),
        # none once a debrief exists, even short of the minimum items
        (week(has_debrief=True), at(10, 14), None),
        (week(has_debrief=True, sent={NUDGE}), at(11, 14), None),
        # none for weeks that did not take place
        (week(cancelled=True), at(10, 14), None),
        (week(rep_declined=True), at(10, 14), None),
        (week(series_stopped=True), at(10, 14), None),
        (week(excused=True), at(10, 14), None),
        # a declined week that was moved did take place, at its new time
        (week(rep_declined=True, current=MOVED), at(10, 14), None),
        (week(rep_declined=True, current=MOVED), at(11, 15, 30), NUDGE),
        (week(current=MOVED), at(13, 15, 29), REMINDER),
        (week(current=MOVED), at(13, 15, 30), None),
    ],
)
def test_due_nudge(case, now, expected):
    assert due_nudge(case, now=now, grace=GRACE) is expected


def test_no_grace_period_means_no_chase():
    assert due_nudge(week(), now=at(10, 13, 30), grace=timedelta(0)) is None


def test_reminder_follows_the_organisations_grace_period():
    assert due_nudge(week(sent={NUDGE}), now=at(10, 19, 30), grace=timedelta(hours=12)) is (
        REMINDER
    )
    assert due_nudge(week(sent={NUDGE}), now=at(10, 19, 30), grace=GRACE) is None


@given(
    minutes=st.integers(min_value=-600, max_value=5000),
    grace_hours=st.integers(min_value=0, max_value=168),
    sent=st.sets(st.sampled_from(list(NudgeKind))),
    has_debrief=st.booleans(),
    cancelled=st.booleans(),
    excused=st.booleans(),
    stopped=st.booleans(),
    declined=st.booleans(),
)
def test_never_twice_never_outside_the_window_never_after_a_debrief(
    minutes, grace_hours, sent, has_debrief, cancelled, excused, stopped, declined
):
    facts = week(
        sent=sent,
        has_debrief=has_debrief,
        cancelled=cancelled,
        excused=excused,
        series_stopped=stopped,
        rep_declined=declined,
    )
    grace = timedelta(hours=grace_hours)
    now = SCHEDULED.end + timedelta(minutes=minutes)
    due = due_nudge(facts, now=now, grace=grace)
    if due is None:
        return
    assert due not in sent
    assert not has_debrief and took_place(facts.session)
    assert SCHEDULED.end <= now < grace_ends_at(facts.session, grace)
    # The two emails never overlap in time: the nudge stops where the reminder starts.
    assert (due is NUDGE) == (now < SCHEDULED.end + grace / 2)


# Monday 19 October 2026: 08:00 is 12:00 UTC in New York and 07:00 UTC in London.
@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (datetime(2026, 10, 19, 11, 59, tzinfo=UTC), "America/New_York", None),
        (datetime(2026, 10, 19, 12, 0, tzinfo=UTC), "America/New_York", date(2026, 10, 19)),
        (datetime(2026, 10, 20, 3, 59, tzinfo=UTC), "America/New_York", date(2026, 10, 19)),
        (datetime(2026, 10, 20, 4, 0, tzinfo=UTC), "America/New_York", None),  # Tuesday there
        (datetime(2026, 10, 19, 6, 59, tzinfo=UTC), "Europe/London", None),
        (datetime(2026, 10, 19, 7, 0, tzinfo=UTC), "Europe/London", date(2026, 10, 19)),
        # Sunday evening in UTC is already Monday morning in Auckland
        (datetime(2026, 10, 18, 19, 0, tzinfo=UTC), "Pacific/Auckland", date(2026, 10, 19)),
        (datetime(2026, 10, 19, 12, 0, tzinfo=UTC), "Pacific/Auckland", None),
    ],
)
def test_items_mail_week(now, zone, expected):
    assert items_mail_week(now, zone) == expected


def test_due_this_week_takes_the_overdue_and_stops_at_sunday():
    monday = date(2026, 10, 19)
    assert due_this_week(date(2026, 10, 1), monday)
    assert due_this_week(date(2026, 10, 25), monday)
    assert not due_this_week(date(2026, 10, 26), monday)
