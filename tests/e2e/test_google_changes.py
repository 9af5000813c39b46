"""A change in the Google emulator reaches its session through push, webhook and worker.

The tests share one booked, watched series; each changes a week of its own.
"""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.stack import wait_until

MANAGER, REP = "pat@acme.test", "george@acme.test"


def test_a_decline_shows_as_declined_within_two_seconds(watched_google):
    stack, series = watched_google
    week = stack.sessions()[0]

    stack.google.respond(
        REP, MANAGER, series.provider_event_id, "declined", original_start=week.scheduled_start
    )

    took = wait_until(lambda: stack.sessions()[0].rep_response == "declined", timeout=2)
    assert took < 2
    assert stack.sessions()[3].outcome == "upcoming"


def test_a_moved_occurrence_flows_back(watched_google):
    stack, series = watched_google
    week = stack.sessions()[1]
    later = week.scheduled_start + timedelta(hours=3)

    stack.google.move_occurrence(MANAGER, series.provider_event_id, week.scheduled_start, later)

    wait_until(lambda: stack.sessions()[1].current_start == later, timeout=2)


def test_a_cancelled_occurrence_flows_back(watched_google):
    stack, series = watched_google
    week = stack.sessions()[2]

    stack.google.cancel_occurrence(MANAGER, series.provider_event_id, week.scheduled_start)

    wait_until(lambda: stack.sessions()[2].cancelled, timeout=2)
