"""A change in the Graph emulator reaches its session through a subscription, the webhook
and a worker. The tests share one booked series; each changes a week of its own."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.stack import wait_until

REP = "rep1@contoso.test"


def test_a_decline_shows_as_declined_within_two_seconds(watched_outlook):
    stack, series = watched_outlook
    week = stack.sessions()[0]

    stack.graph.decline_occurrence(REP, series.provider_event_id, week.scheduled_start)

    wait_until(lambda: stack.sessions()[0].rep_response == "declined", timeout=2)


def test_a_cancellation_flows_back(watched_outlook):
    stack, series = watched_outlook
    week = stack.sessions()[1]

    stack.graph.cancel_occurrence(series.provider_event_id, week.scheduled_start)

    wait_until(lambda: stack.sessions()[1].cancelled, timeout=2)


def test_a_moved_occurrence_flows_back(watched_outlook):
    stack, series = watched_outlook
    week = stack.sessions()[2]
    later = week.scheduled_start + timedelta(hours=2)

    stack.graph.move_occurrence(series.provider_event_id, week.scheduled_start, later)

    wait_until(lambda: stack.sessions()[2].current_start == later, timeout=2)
