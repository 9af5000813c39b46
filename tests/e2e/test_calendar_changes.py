"""Series deleted in the calendar, lost notifications, and Outlook's push path."""

from __future__ import annotations

from scheduler.jobs import tasks
from scheduler.models import CalendarConnection, Provider, SeriesStatus
from tests.e2e.stack import wait_until


def test_a_deleted_series_stops_the_cadence(stack):
    series = stack.book_and_watch()

    stack.google.delete_event("pat@acme.test", series.provider_event_id)

    wait_until(lambda: stack.series().status == SeriesStatus.STOPPED, timeout=2)
    assert all(s.series_stopped for s in stack.sessions())  # counted once each week has passed


def test_a_lost_notification_is_caught_by_the_daily_reconciliation(stack):
    series = stack.book_and_watch()
    week1 = stack.sessions()[0]
    with stack.database.session() as db:  # the channel is gone: nothing will be pushed
        db.get(CalendarConnection, stack.connection_id).channel_id = None
    # The webhook keeps a channel it read for 30 s (web.webhooks.ChannelCache): forget it, as
    # a web process started since would not know it.
    stack.app.extensions.pop("cadence.webhook-channels", None)

    stack.google.respond(
        "george@acme.test",
        "pat@acme.test",
        series.provider_event_id,
        "declined",
        original_start=week1.scheduled_start,
    )
    wait_until(lambda: any(d.status == 404 for d in stack.google.deliveries), timeout=2)
    assert stack.sessions()[0].outcome == "upcoming"

    stack.runtime.dispatcher.enqueue(tasks.reconcile_all)

    wait_until(lambda: stack.sessions()[0].rep_response == "declined", timeout=5)


def test_an_outlook_series_deleted_stops_the_cadence(stack_factory):
    stack = stack_factory(provider=Provider.MICROSOFT)
    series = stack.book_and_watch()

    stack.graph.delete_series(series.provider_event_id)

    wait_until(lambda: stack.series().status == SeriesStatus.STOPPED, timeout=2)
