from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

import pytest

from scheduler.intervals import Interval
from scheduler.outcomes import (
    OUTCOMES_NOT_HELD,
    CancelledBy,
    SessionFacts,
    SessionOutcome,
    classify_session,
    consistency_score,
    week_state,
)

Out = SessionOutcome
GRACE = timedelta(hours=48)


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# Tuesday 10 March 2026, 09:00-09:30 in New York (13:00 UTC, EDT since 8 March).
SCHEDULED = Interval(at(10, 13), at(10, 13, 30))
SAME_WEEK = Interval(at(12, 13), at(12, 13, 30))  # Thursday
NEXT_WEEK = Interval(at(17, 13), at(17, 13, 30))
LONG_AFTER = at(31, 0)
BASE = SessionFacts(scheduled=SCHEDULED, organiser_zone="America/New_York")


def facts(**changes):
    return replace(BASE, **changes)


@pytest.mark.parametrize(
    ("case", "now", "expected"),
    [
        # 1. stopped outranks everything, even a debrief
        (facts(series_stopped=True, action_items=3), LONG_AFTER, Out.STOPPED),
        (facts(series_stopped=True), LONG_AFTER, Out.STOPPED),
        # 2. a debrief with the minimum proves it was held, wherever it moved
        (facts(action_items=3), LONG_AFTER, Out.HELD),
        (facts(action_items=3), at(10, 13, 15), Out.HELD),
        (
            facts(action_items=3, current=NEXT_WEEK, excused=True, cancelled=True),
            LONG_AFTER,
            Out.HELD,
        ),
        (facts(action_items=2), LONG_AFTER, Out.UNDOCUMENTED),
        (facts(action_items=3, minimum_action_items=4), LONG_AFTER, Out.UNDOCUMENTED),
        # 3. excused outranks cancelled and declined
        (facts(excused=True, cancelled=True, rep_declined=True), LONG_AFTER, Out.EXCUSED),
        (facts(excused=True), LONG_AFTER, Out.EXCUSED),
        # 4. cancelled, by whoever, outranks moved and declined
        (facts(cancelled=True, cancelled_by=CancelledBy.REP), LONG_AFTER, Out.CANCELLED),
        (facts(cancelled=True, current=NEXT_WEEK, rep_declined=True), LONG_AFTER, Out.CANCELLED),
        # 5. moved to another ISO week
        (facts(current=NEXT_WEEK), LONG_AFTER, Out.RESCHEDULED),
        (facts(current=NEXT_WEEK, rep_declined=True), LONG_AFTER, Out.RESCHEDULED),
        # 6. declined and not moved; a moved occurrence's old decline does not count
        (facts(rep_declined=True), LONG_AFTER, Out.DECLINED),
        (facts(rep_declined=True, current=SCHEDULED), LONG_AFTER, Out.DECLINED),
        (facts(rep_declined=True, current=SAME_WEEK), LONG_AFTER, Out.MOVED),
        # 7. upcoming until (current) end + grace, exclusive
        (BASE, at(1, 0), Out.UPCOMING),
        (BASE, SCHEDULED.end + GRACE - timedelta(microseconds=1), Out.UPCOMING),
        (BASE, SCHEDULED.end + GRACE, Out.UNDOCUMENTED),
        (facts(current=SAME_WEEK), SCHEDULED.end + GRACE, Out.UPCOMING),
        (facts(current=SAME_WEEK), SAME_WEEK.end + GRACE - timedelta(seconds=1), Out.UPCOMING),
        # 8. moved within its week
        (facts(current=SAME_WEEK), SAME_WEEK.end + GRACE, Out.MOVED),
        # 9. nothing else
        (BASE, LONG_AFTER, Out.UNDOCUMENTED),
    ],
)
def test_classify_session_rules_in_precedence(case, now, expected):
    assert classify_session(case, now=now, grace=GRACE) is expected


@pytest.mark.parametrize(
    ("case", "known", "counts_from"),
    [
        (facts(series_stopped=True), Out.STOPPED, SCHEDULED.end),
        (facts(excused=True), Out.EXCUSED, SCHEDULED.end),
        (facts(cancelled=True, cancelled_by=CancelledBy.MANAGER), Out.CANCELLED, SCHEDULED.end),
        (facts(cancelled=True, current=NEXT_WEEK), Out.CANCELLED, NEXT_WEEK.end),
        (facts(current=NEXT_WEEK), Out.RESCHEDULED, NEXT_WEEK.end),
        (facts(rep_declined=True), Out.DECLINED, SCHEDULED.end),
        (facts(current=SAME_WEEK), Out.MOVED, SAME_WEEK.end + GRACE),
        (BASE, Out.UNDOCUMENTED, SCHEDULED.end + GRACE),
        (facts(action_items=3, current=NEXT_WEEK), Out.HELD, NEXT_WEEK.start),
    ],
)
def test_nothing_counts_before_its_time_but_what_is_known_shows(case, known, counts_from):
    """A week cancelled, declined, rescheduled or stopped ahead of time is upcoming in every
    count until its (moved) time has passed; what is known of it is there for pages."""
    before = week_state(case, now=counts_from - timedelta(microseconds=1), grace=GRACE)
    assert before.outcome is Out.UPCOMING and before.upcoming
    assert before.known is known and before.counts_from == counts_from
    after = week_state(case, now=counts_from, grace=GRACE)
    assert after.outcome is known and not after.upcoming


@pytest.mark.parametrize(
    ("zone", "new_start", "expected"),
    [
        # Sunday 23:30 in New York is still the scheduled week there, Monday in UTC.
        ("America/New_York", at(16, 3, 30), Out.MOVED),
        ("UTC", at(16, 3, 30), Out.RESCHEDULED),
        # Monday 00:30 in Tokyo is the next week there, still Sunday in UTC.
        ("Asia/Tokyo", at(15, 15, 30), Out.RESCHEDULED),
        ("UTC", at(15, 15, 30), Out.MOVED),
        # The Monday of the scheduled week, early morning local time.
        ("America/New_York", at(9, 4, 30), Out.MOVED),
        ("America/New_York", at(9, 3, 30), Out.RESCHEDULED),
    ],
)
def test_the_week_is_the_organisers_iso_week(zone, new_start, expected):
    moved = Interval(new_start, new_start + timedelta(minutes=30))
    case = facts(organiser_zone=zone, current=moved)
    assert classify_session(case, now=LONG_AFTER, grace=GRACE) is expected


def test_an_unknown_zone_is_refused():
    with pytest.raises(ZoneInfoNotFoundError):
        facts(organiser_zone="Mars/Olympus")


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], None),
        ([Out.EXCUSED, Out.UPCOMING], None),
        ([Out.HELD], 1.0),
        ([Out.HELD, Out.EXCUSED, Out.UPCOMING], 1.0),
        ([Out.HELD, Out.STOPPED], 0.5),
        ([Out.HELD, Out.HELD, Out.HELD, Out.UNDOCUMENTED], 0.75),
        ([Out.MOVED, Out.RESCHEDULED, Out.CANCELLED, Out.DECLINED, Out.UNDOCUMENTED], 0.0),
    ],
)
def test_consistency_score(outcomes, expected):
    assert consistency_score(outcomes) == expected


@pytest.mark.parametrize("outcome", list(Out))
def test_skipped_list_holds_what_did_not_happen_without_excuse(outcome):
    not_held = outcome in OUTCOMES_NOT_HELD
    happened_or_excused_or_pending = outcome in {Out.HELD, Out.MOVED, Out.EXCUSED, Out.UPCOMING}
    assert not_held is not happened_or_excused_or_pending
