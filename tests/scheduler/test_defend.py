"""The rules of defending the slot: policy, the same clash once, the automatic move, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.availability import WorkingHours
from scheduler.defend import (
    AutoMoveRefusal,
    BusySpan,
    ConflictPolicy,
    ConflictState,
    auto_move_target,
    count_conflicts,
    effective_policy,
    fingerprint,
    within_hours,
)
from scheduler.intervals import Interval

NOW = datetime(2026, 10, 19, 13, 0, tzinfo=UTC)  # Monday 9:00 in New York
NEW_YORK = WorkingHours("America/New_York")  # 9 to 5, Monday to Friday
LONDON = WorkingHours("Europe/London")
HALF_HOUR = timedelta(minutes=30)


def at(day: int, hour: int, minute: int = 0) -> Interval:
    """Half an hour on October ``day`` 2026 at ``hour`` UTC."""
    start = datetime(2026, 10, day, hour, minute, tzinfo=UTC)
    return Interval(start, start + HALF_HOUR)


@pytest.mark.parametrize(
    ("own", "default", "expected"),
    [
        (None, "ask", ConflictPolicy.ASK),
        (None, "auto", ConflictPolicy.AUTO),
        ("ask", "auto", ConflictPolicy.ASK),
        ("auto", "ask", ConflictPolicy.AUTO),
        ("", "auto", ConflictPolicy.AUTO),
        ("bogus", "bogus", ConflictPolicy.ASK),
    ],
)
def test_the_managers_own_policy_wins_over_the_organisations(own, default, expected):
    assert effective_policy(own, default) is expected


def test_the_same_clash_hashes_the_same_in_any_order_and_case():
    start = at(27, 14).start
    a = BusySpan("george@acme.test", "rep", at(27, 14))
    b = BusySpan("pat@acme.test", "manager", at(27, 13, 45))
    assert fingerprint(start, [a, b]) == fingerprint(
        start, [b, BusySpan("George@Acme.test", "rep", at(27, 14))]
    )
    assert fingerprint(start, [a]) != fingerprint(start, [a, b])  # another block: new clash
    assert fingerprint(start, [a]) != fingerprint(at(28, 14).start, [a])  # another week
    moved = BusySpan("george@acme.test", "rep", at(27, 14, 15))
    assert fingerprint(start, [a]) != fingerprint(start, [moved])


def test_busy_spans_keep_whose_and_when_only():
    span = BusySpan("george@acme.test", "rep", at(27, 14))
    assert span.as_json() == {
        "email": "george@acme.test",
        "role": "rep",
        "start": "2026-10-27T14:00:00+00:00",
        "end": "2026-10-27T14:30:00+00:00",
    }
    assert BusySpan.from_json(span.as_json()) == span


@pytest.mark.parametrize(
    ("hours", "interval", "inside"),
    [
        (NEW_YORK, at(27, 13), True),  # 9:00-9:30 New York (EDT)
        (NEW_YORK, at(27, 12, 45), False),  # starts 8:45
        (NEW_YORK, at(27, 20, 45), False),  # ends 17:15
        (NEW_YORK, at(27, 20, 30), True),  # ends 17:00 sharp
        (NEW_YORK, at(24, 15), False),  # a Saturday
        (LONDON, at(27, 16, 30), True),  # 16:30 in London (GMT after 25 October)
        (LONDON, at(27, 17), False),  # 17:00-17:30 in London
        # 10:00 New York on 2 November is 15:00 UTC (EST): inside; 13:30 UTC is 8:30
        (NEW_YORK, Interval(datetime(2026, 11, 2, 15, tzinfo=UTC),
                            datetime(2026, 11, 2, 15, 30, tzinfo=UTC)), True),
        (NEW_YORK, Interval(datetime(2026, 11, 2, 13, 30, tzinfo=UTC),
                            datetime(2026, 11, 2, 14, tzinfo=UTC)), False),
    ],
)  # fmt: skip
def test_working_hours_are_read_in_each_persons_zone(hours, interval, inside):
    assert within_hours(hours, interval) is inside


def test_an_automatic_move_takes_the_best_alternative_inside_both_peoples_hours():
    occurrence = at(27, 14)
    # 17:00 UTC is 13:00 New York but 17:00 London: outside Lena's hours; 15:00 UTC fits.
    move = auto_move_target(
        occurrence,
        [at(27, 17), at(27, 15)],
        manager_hours=NEW_YORK,
        rep_hours=LONDON,
        moved_this_week=False,
        now=NOW,
    )
    assert move.to == at(27, 15) and move.refusal is None


@pytest.mark.parametrize(
    ("occurrence", "alternatives", "moved", "refusal"),
    [
        (at(20, 12, 30), [at(21, 14)], False, AutoMoveRefusal.TOO_SOON),  # in 23.5 hours
        (at(27, 14), [at(27, 15)], True, AutoMoveRefusal.ALREADY_MOVED),
        (at(27, 14), [], False, AutoMoveRefusal.NO_ALTERNATIVE),
        (at(27, 14), [at(20, 12, 30)], False, AutoMoveRefusal.TOO_SOON),  # new time too soon
        (at(27, 14), [at(27, 23)], False, AutoMoveRefusal.OUTSIDE_HOURS),  # 19:00 New York
    ],
)
def test_an_automatic_move_is_refused_by_the_rules(occurrence, alternatives, moved, refusal):
    move = auto_move_target(
        occurrence,
        alternatives,
        manager_hours=NEW_YORK,
        rep_hours=NEW_YORK,
        moved_this_week=moved,
        now=NOW,
    )
    assert move.to is None and move.refusal is refusal


def test_a_meeting_starting_within_24_hours_is_never_moved_automatically():
    soon = Interval(NOW + timedelta(hours=23, minutes=59), NOW + timedelta(hours=24, minutes=29))
    move = auto_move_target(
        soon, [at(22, 14)], manager_hours=NEW_YORK, rep_hours=NEW_YORK,
        moved_this_week=False, now=NOW,
    )  # fmt: skip
    assert move.refusal is AutoMoveRefusal.TOO_SOON


@given(
    offset=st.integers(min_value=0, max_value=14 * 96),
    alternatives=st.lists(st.integers(min_value=0, max_value=14 * 96), max_size=4),
    moved=st.booleans(),
)
def test_an_automatic_move_never_breaks_a_rule(offset, alternatives, moved):
    def quarter(n: int) -> Interval:
        start = NOW + timedelta(minutes=15 * n)
        return Interval(start, start + HALF_HOUR)

    occurrence = quarter(offset)
    choices = [quarter(n) for n in alternatives]
    move = auto_move_target(
        occurrence, choices, manager_hours=NEW_YORK, rep_hours=LONDON,
        moved_this_week=moved, now=NOW,
    )  # fmt: skip
    if move.to is None:
        assert move.refusal is not None
        return
    assert not moved
    assert move.to in choices
    assert occurrence.start - NOW >= timedelta(hours=24)
    assert move.to.start - NOW >= timedelta(hours=24)
    assert within_hours(NEW_YORK, move.to) and within_hours(LONDON, move.to)
    # the best one allowed: nothing earlier in the list was allowed
    for earlier in choices[: choices.index(move.to)]:
        assert earlier.start - NOW < timedelta(hours=24) or not (
            within_hours(NEW_YORK, earlier) and within_hours(LONDON, earlier)
        )


def test_counts_say_what_became_of_the_conflicts():
    counts = count_conflicts(
        [
            (ConflictState.MOVED, "moved"),
            (ConflictState.MOVED_AUTOMATICALLY, "moved"),
            (ConflictState.MOVED_AUTOMATICALLY, "held"),
            (ConflictState.CANCELLED, "cancelled"),  # cancelled through the email: lost
            (ConflictState.MAILED, "declined"),  # left open, the rep declined: lost
            (ConflictState.PENDING, "undocumented"),  # left open, not held: lost
            (ConflictState.MAILED, "held"),  # the 1:1 happened anyway: not lost
            (ConflictState.MAILED, "excused"),  # a holiday: no one's loss
            (ConflictState.MAILED, "upcoming"),  # not over yet: not lost
            (ConflictState.CANCELLED, "upcoming"),  # counted once its time has passed
            (ConflictState.RESOLVED, "held"),
        ]
    )
    assert (counts.detected, counts.moved_by_manager, counts.moved_automatically) == (11, 1, 2)
    assert (counts.defended, counts.lost, counts.resolved) == (3, 3, 1)
