"""Series deleted in the calendar, lost notifications, and Outlook's push path."""

from __future__ import annotations

from scheduler.jobs import tasks
from scheduler.models import Provider, SeriesStatus
from tests.e2e.stack import wait_until


def test_a_deleted_series_stops_the_cadence(stack):
    series = stack.book_and_watch()

    stack.google.delete_event("pat@acme.test", series.provider_event_id)

    wait_until(lambda: stack.series().status == SeriesStatus.STOPPED, timeout=2)
    assert all(s.series_stopped for s in stack.sessions())  # counted once each week has passed


def test_a_lost_notification_is_caught_by_the_daily_reconciliation(stack):
    series = stack.book_and_watch()
    week1 = stack.sessions()[0]
    stack.google.wait_for_deliveries()
    delivered = len(stack.google.deliveries)
    stack.google.lose_notifications("pat@acme.test")  # the manager's calendar

    stack.google.respond(
        "george@acme.test",
        "pat@acme.test",
        series.provider_event_id,
        "declined",
        original_start=week1.scheduled_start,
    )
    stack.google.wait_for_deliveries()
    assert len(stack.google.deliveries) == delivered  # the change was never pushed
    assert stack.sessions()[0].outcome == "upcoming"

    stack.runtime.dispatcher.enqueue(tasks.reconcile_all)

    wait_until(lambda: stack.sessions()[0].rep_response == "declined", timeout=5)


def test_an_outlook_series_deleted_stops_the_cadence(stack_factory):
    stack = stack_factory(provider=Provider.MICROSOFT)
    series = stack.book_and_watch()

    stack.graph.delete_series(series.provider_event_id)

    wait_until(lambda: stack.series().status == SeriesStatus.STOPPED, timeout=2)
