"""The embedded default: no Redis, the same jobs run inline, periodic ones from a timer."""

from __future__ import annotations

from datetime import timedelta

from integrations.base import ReconnectRequired
from scheduler.jobs import tasks
from scheduler.jobs.dispatch import InlineDispatcher
from scheduler.jobs.periodic import PERIODIC, EmbeddedTimer, Periodic, due
from scheduler.usecases.job_failures import recent_job_failures
from tests.jobs.conftest import rep_declines_week1
from tests.sessions import series_sessions


def test_without_redis_a_sync_request_runs_at_once(inline, booked, calendar, database):
    assert isinstance(inline.dispatcher, InlineDispatcher)
    rep_declines_week1(database, calendar, booked)
    assert tasks.request_sync(inline, booked.org_id, booked.connection_id)
    week1 = series_sessions(database, booked.series_ids[0])[0]
    assert (week1.rep_response, week1.outcome) == ("declined", "upcoming")  # not yet its time


def test_an_inline_failure_is_recorded_and_not_raised_to_the_caller(
    inline, booked, calendar, database
):
    calendar.fail_next(ReconnectRequired("invalid_grant"))
    tasks.request_sync(inline, booked.org_id, booked.connection_id)
    with database.session() as db:
        assert [f.job for f in recent_job_failures(db, booked.org_id)] == ["sync_connection"]


def test_the_embedded_timer_runs_each_periodic_job_once_per_interval(inline, booked, calendar):
    timer = EmbeddedTimer(inline.dispatcher)
    assert timer.run_due() == [job.name for job in PERIODIC]
    assert timer.run_due() == []
    assert calendar.calls["open_channel"] == 1  # channels.renew opened the missing channel


def test_due_is_a_pure_function_of_the_last_runs_and_now():
    hourly = Periodic("h", timedelta(hours=1), tasks.reclassify_sessions)
    daily = Periodic("d", timedelta(days=1), tasks.reconcile_all)
    schedule = (hourly, daily)
    assert due(schedule, {}, 0) == [hourly, daily]
    assert due(schedule, {"h": 0, "d": 0}, 3599) == []
    assert due(schedule, {"h": 0, "d": 0}, 3600) == [hourly]
    assert due(schedule, {"h": 86_000, "d": 0}, 86_400) == [daily]


def test_the_agenda_lead_time_is_a_setting(settings, database):
    from dataclasses import replace

    from scheduler import jobs

    runtime = jobs.build(replace(settings, agenda_lead_hours=48), link=str, database=database)
    assert runtime.tuning.agenda_lead == timedelta(hours=48)
